/**
 * A leaner backward pass for tfjs. `engine.gradients` (under tf.grads, variableGrads and every
 * optimizer) keeps the gradient of every intermediate tensor, every temporary of every gradient
 * function, and every tensor saved for the backward pass until the whole backward pass ends: on
 * the LIDC Prob. U-Net that doubles a training step's peak memory over PyTorch's, which frees
 * them as it goes. This replacement walks the same tape, in the same order, with the same
 * kernels (so its gradients are bit-identical) and frees as it goes:
 *   - a tensor's gradient once the node that produced the tensor has used it (every consumer of
 *     a tensor comes after its producer on the tape, so by then the gradient is complete);
 *   - a node's saved tensors once its gradient has run (top-level gradients only: higher-order
 *     gradients need them later, and run as tfjs's own);
 *   - a gradient function's temporaries (e.g. dy * relu'(y)) when its node is done.
 */
import * as tf from '@tensorflow/tfjs';

type Tensor = tf.Tensor;
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, Tensor>;
  outputs: Tensor[];
  saved?: Tensor[];
  gradient?: (dys: Array<Tensor | null>) => Record<string, () => Tensor>;
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
  gradients: Gradients;
}
type Gradients = (f: () => Tensor, xs: Tensor[], dy?: Tensor, allowNoGradients?: boolean) => { value: Tensor; grads: Tensor[] };

const INSTALLED = Symbol.for('punet.frugalGradients');

/** Replaces tfjs's engine.gradients with the frugal one (idempotent). */
export function installFrugalGradients(): void {
  const engine = tf.engine() as unknown as EngineInternals & { [INSTALLED]?: Gradients };
  if (engine[INSTALLED] !== undefined) return;
  const original = engine.gradients.bind(engine);
  engine[INSTALLED] = original;
  engine.gradients = (f, xs, dy, allowNoGradients = false) =>
    // Nested in another gradient (higher order): tfjs's own, which keeps what the outer one needs.
    engine.state.gradientDepth > 0 ? original(f, xs, dy, allowNoGradients) : frugalGradients(engine, f, xs, dy, allowNoGradients);
}

/** Puts tfjs's own engine.gradients back (tests compare both in one process). */
export function uninstallFrugalGradients(): void {
  const engine = tf.engine() as unknown as EngineInternals & { [INSTALLED]?: Gradients };
  const original = engine[INSTALLED];
  if (original === undefined) return;
  delete engine[INSTALLED];
  engine.gradients = original;
}

function frugalGradients(engine: EngineInternals, f: () => Tensor, xs: Tensor[], dy: Tensor | undefined, allowNoGradients: boolean) {
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const tape = engine.state.activeTape ?? [];
  const filtered = nodesFromXsToY(tape, xs, y);
  if (!allowNoGradients && filtered.length === 0) {
    throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
  }
  const result = engine.tidy('backward', () => {
    const grads = new GradientMap(new Set([...xs.map((x) => x.id)]), dy);
    grads.set(y, dy ?? tf.onesLike(y));
    for (let i = filtered.length - 1; i >= 0; i--) {
      const node = filtered[i]!;
      if (node.gradient === undefined) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const dys = node.outputs.map((o) => grads.get(o) ?? null);
      // One scope per node: the gradient function's temporaries go when its inputs' gradients are made.
      const dxs = engine.tidy(`grad ${node.kernelName}`, () => {
        const fns = node.gradient!(dys);
        const out: Record<string, Tensor> = {};
        for (const name in node.inputs) {
          if (!(name in fns)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(fns)}.`);
          out[name] = checked(node, name, fns[name]!(), node.inputs[name]!);
        }
        return out;
      });
      for (const name in node.inputs) grads.accumulate(node.inputs[name]!, dxs[name]!);
      for (const o of node.outputs) grads.release(o);
      for (const t of node.saved ?? []) t.dispose();
      if (node.saved) node.saved.length = 0;
    }
    return { grads: xs.map((x) => grads.get(x)!) };
  });
  // Saved tensors of nodes off the x -> y path, as tfjs does at the end.
  for (const node of tape) for (const t of node.saved ?? []) t.dispose();
  engine.state.activeTape = null;
  return { value: y, grads: result.grads };
}

function checked(node: TapeNode, name: string, dx: Tensor, x: Tensor): Tensor {
  if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
  if (!tf.util.arraysEqual(dx.shape, x.shape)) {
    throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
  }
  return dx;
}

/**
 * Gradients by tensor id. A gradient function may hand a dy on unchanged as its input's dx, so one
 * gradient tensor can sit under several ids: it is disposed only when no id holds it any more.
 */
class GradientMap {
  private readonly byId = new Map<number, Tensor>();
  private readonly holders = new Map<Tensor, number>();

  constructor(
    private readonly kept: Set<number>,
    private readonly userDy: Tensor | undefined,
  ) {}

  get(t: Tensor): Tensor | undefined {
    return this.byId.get(t.id);
  }

  set(t: Tensor, grad: Tensor): void {
    this.byId.set(t.id, grad);
    this.holders.set(grad, (this.holders.get(grad) ?? 0) + 1);
  }

  accumulate(x: Tensor, dx: Tensor): void {
    const current = this.byId.get(x.id);
    if (current === undefined) return this.set(x, dx);
    const sum = tf.add(current, dx);
    this.drop(x.id);
    this.set(x, sum);
    this.dispose(dx);
  }

  /** The gradient of `t` is no longer needed (its producer has run), unless it is a result. */
  release(t: Tensor): void {
    if (!this.kept.has(t.id)) this.drop(t.id);
  }

  private drop(id: number): void {
    const grad = this.byId.get(id);
    if (grad === undefined) return;
    this.byId.delete(id);
    const left = (this.holders.get(grad) ?? 1) - 1;
    if (left > 0) this.holders.set(grad, left);
    else {
      this.holders.delete(grad);
      this.dispose(grad);
    }
  }

  private dispose(grad: Tensor): void {
    if (grad !== this.userDy && !this.holders.has(grad)) grad.dispose();
  }
}

/** The tape nodes on a path from one of `xs` to `y`, with inputs not computed from `xs` left out. */
function nodesFromXsToY(tape: TapeNode[], xs: Tensor[], y: Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodesFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY.has(o.id))) {
      nodesToY.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  return tape
    .filter((node) => nodesFromX.has(node.id) && nodesToY.has(node.id))
    .map((node) => ({ ...node, inputs: Object.fromEntries(Object.entries(node.inputs).filter(([, t]) => fromX.has(t.id))) }));
}
