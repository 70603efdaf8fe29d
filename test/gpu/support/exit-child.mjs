// Child process of webgpu-exit.test.ts: selects webgpu, trains the small net for a few steps and
// returns from the script WITHOUT any explicit teardown (unless argv[3] is 'release'). The test
// checks that the process then ends by itself (no Dawn handle keeps the event loop alive).
const dir = process.argv[2];
const release = process.argv[3] === 'release';
const tf = await import('@tensorflow/tfjs');
const { tryWebGPU, releaseWebGPU } = await import(`${dir}/runtime/backends/webgpu.js`);
const net = await import(`${dir}/test/gpu/support/small-unet.js`);

const result = await tryWebGPU({ allowSoftware: true, cpuForward: false });
if (!result.ok) {
  console.log(JSON.stringify({ ok: false, reason: result.reason }));
  process.exit(3);
}
const cfg = { levels: 2, baseChannels: 4, inChannels: 1, classes: 2, latent: 2 };
const vars = net.makeVariables(net.initParams(cfg, 1));
const batch = net.makeBatch(cfg, 2, 8, 2);
const optimizer = tf.train.adam(0.01);
const losses = [];
for (let step = 0; step < 3; step++) {
  const loss = optimizer.minimize(() => net.smallUNetLoss(cfg, vars, batch), true, Object.values(vars));
  losses.push((await loss.data())[0]);
  loss.dispose();
}
if (release) {
  optimizer.dispose();
  net.disposeVariables(vars);
  await releaseWebGPU();
}
console.log(JSON.stringify({ ok: true, backend: tf.getBackend(), losses, scriptEndMs: Math.round(performance.now()) }));
