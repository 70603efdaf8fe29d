"""PyTorch reference of punet's Probabilistic U-Net, built from a resolved punet spec (JSON), timed
the way bench/compiler.ts times punet: training forward, prepare + N prior samples, and one
forward + backward + Adam step, each run once to warm up and then `repeats` times (median wall
time, and the process CPU time of that run). Prints one JSON object.

Same architecture as plugins/builtin/prob-unet.ts: U-Net (3x3 SAME convs + ReLU, 2x2 average
pooling, bilinear align-corners upsampling, concat with the skip), prior and posterior conv
encoders (the posterior sees the image and onehot(mask) - 0.5) with a spatial mean and a 1x1 head
to (mu, log sigma = b tanh(raw / b)), and fcomb (z tiled onto the U-Net features, 1x1 convs).
Loss: cross-entropy summed per image and averaged over the batch + beta * analytic KL + L2 on the
conv kernels; Adam.

  python3 bench/pytorch/prob_unet.py SPEC.json --batch 8 --repeats 3 --samples 16 --threads 1
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# The spec's `activation` of a conv block (punet's default is relu).
ACTIVATIONS = {"relu": nn.ReLU, "elu": nn.ELU}


def conv_stack(c_in, width, convs, k, act="relu"):
    layers = []
    for j in range(convs):
        layers += [nn.Conv2d(c_in if j == 0 else width, width, k, padding=k // 2), ACTIVATIONS[act]()]
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    def __init__(self, c_in, widths, convs, k, act="relu"):
        super().__init__()
        self.levels = nn.ModuleList(conv_stack(c_in if i == 0 else widths[i - 1], w, convs, k, act) for i, w in enumerate(widths))

    def forward(self, x):
        outs = []
        for i, level in enumerate(self.levels):
            if i > 0:
                # SAME 2x2 pooling: odd sizes round up (punet pads and rescales the edge cells).
                x = F.avg_pool2d(x, 2, ceil_mode=True)
            x = level(x)
            outs.append(x)
        return outs


class UNet(nn.Module):
    def __init__(self, c_in, widths, convs, k):
        super().__init__()
        self.encoder = Encoder(c_in, widths, convs, k)
        self.up = nn.ModuleList()
        below = widths[-1]
        for i in range(len(widths) - 2, -1, -1):
            self.up.append(conv_stack(below + widths[i], widths[i], convs, k))
            below = widths[i]

    def forward(self, x):
        skips = self.encoder(x)
        x = skips[-1]
        for j, stack in enumerate(self.up):
            skip = skips[len(skips) - 2 - j]
            x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=True)
            x = stack(torch.cat([x, skip], 1))
        return x


class LatentEncoder(nn.Module):
    def __init__(self, c_in, widths, convs, k, latent, bound, act="relu"):
        super().__init__()
        self.encoder = Encoder(c_in, widths, convs, k, act)
        self.head = nn.Conv2d(widths[-1], 2 * latent, 1)
        self.latent, self.bound = latent, bound

    def forward(self, x):
        h = self.head(self.encoder(x)[-1].mean((2, 3), keepdim=True)).flatten(1)
        mu, raw = h[:, : self.latent], h[:, self.latent :]
        return mu, self.bound * torch.tanh(raw / self.bound)


class Fcomb(nn.Module):
    def __init__(self, features, latent, width, layers, classes):
        super().__init__()
        convs = [nn.Conv2d(features + latent if i == 0 else width, width, 1) for i in range(layers)]
        self.convs = nn.ModuleList(convs)
        self.logits = nn.Conv2d(width, classes, 1)
        self.features = features

    def prepare(self, f):
        # The features' share of the first 1x1 conv, computed once per image (as punet does).
        first = self.convs[0]
        return F.conv2d(f, first.weight[:, : self.features], first.bias)

    def combine(self, prepared, z):
        b, n, m = z.shape
        wz = self.convs[0].weight[:, self.features :, 0, 0]  # [width, m]
        x = prepared.unsqueeze(1) + (z @ wz.t()).view(b, n, -1, 1, 1)
        x = F.relu(x.flatten(0, 1))
        for conv in self.convs[1:]:
            x = F.relu(conv(x))
        return self.logits(x).view(b, n, -1, *prepared.shape[2:])


class ProbUNet(nn.Module):
    def __init__(self, spec):
        super().__init__()
        i, u, p, q, lat, fc = spec["input"], spec["unet"], spec["prior"], spec["posterior"], spec["latent"], spec["combiner"]
        c, classes = i["channels"], i["classes"]
        self.classes = classes
        self.unet = UNet(c, u["widths"], u["convs_per_block"], u["kernel_size"])
        self.prior = LatentEncoder(c, p["widths"], p["convs_per_block"], p["kernel_size"], lat["size"], lat["log_sigma_bound"], p.get("activation", "relu"))
        self.posterior = LatentEncoder(c + classes, q["widths"], q["convs_per_block"], q["kernel_size"], lat["size"], lat["log_sigma_bound"], q.get("activation", "relu"))
        self.fcomb = Fcomb(u["widths"][0], lat["size"], fc["width"], fc["layers"], classes)

    def train_forward(self, images, masks):
        onehot = F.one_hot(masks, self.classes).permute(0, 3, 1, 2).float() - 0.5
        prior = self.prior(images)
        post = self.posterior(torch.cat([images, onehot], 1))
        z = post[0] + torch.exp(post[1]) * torch.randn_like(post[0])
        logits = self.fcomb.combine(self.fcomb.prepare(self.unet(images)), z.unsqueeze(1))[:, 0]
        return logits, prior, post

    def sample(self, images, n):
        mu, log_sigma = self.prior(images)
        prepared = self.fcomb.prepare(self.unet(images))
        z = mu.unsqueeze(1) + torch.exp(log_sigma).unsqueeze(1) * torch.randn(mu.shape[0], n, mu.shape[1])
        return self.fcomb.combine(prepared, z)


def loss_of(model, images, masks, beta, l2):
    logits, (mu_p, ls_p), (mu_q, ls_q) = model.train_forward(images, masks)
    rec = F.cross_entropy(logits, masks, reduction="sum") / images.shape[0]
    # KL(q || p) of diagonal Gaussians, summed over latent dims, averaged over the batch.
    kl = (ls_p - ls_q + (torch.exp(2 * ls_q) + (mu_q - mu_p) ** 2) / (2 * torch.exp(2 * ls_p)) - 0.5).sum(1).mean()
    reg = sum((m.weight ** 2).sum() for m in model.modules() if isinstance(m, nn.Conv2d))
    return rec + beta * kl + l2 * reg


def timed(repeats, fn):
    def once():
        c, t = time.process_time(), time.perf_counter()
        fn()
        return time.perf_counter() - t, time.process_time() - c

    first = once()
    runs = sorted((once() for _ in range(repeats)), key=lambda r: r[0])
    wall, cpu = runs[len(runs) // 2] if runs else first
    return {"seconds": wall, "cpuSeconds": cpu, "firstSeconds": first[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spec")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    # One phase alone, so the process's peak RSS is that phase's (e.g. the training step's).
    ap.add_argument("--only", choices=["trainForward", "sample", "trainStep"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    with open(a.spec) as f:
        spec = json.load(f)
    h, w = spec["input"]["size"]
    model = ProbUNet(spec)
    loss = spec["loss"]
    beta = loss["objective"].get("beta", 1)
    l2 = loss["regularization"].get("scale", 0)
    opt = spec["train"]["optimizer"]
    adam = torch.optim.Adam(model.parameters(), lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]), eps=opt["epsilon"])
    images = torch.rand(a.batch, spec["input"]["channels"], h, w)
    masks = (torch.rand(a.batch, h, w) > 0.7).long()

    def forward():
        with torch.no_grad():
            model.train_forward(images, masks)

    def sample():
        with torch.no_grad():
            model.sample(images, a.samples)

    def step():
        adam.zero_grad(set_to_none=True)
        loss_of(model, images, masks, beta, l2).backward()
        adam.step()

    phases = {"trainForward": forward, "sample": sample, "trainStep": step}
    result = {
        "system": f"pytorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    for name, fn in phases.items():
        if a.only in (None, name):
            result[name] = timed(a.repeats, fn)
    if "sample" in result:
        result["sample"]["samples"] = a.samples
    result["peakRssMB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
