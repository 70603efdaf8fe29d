/** What the trainer needs from a compiled model: the segmenter and its named variables. */
import type { ProbabilisticSegmenter, Variable } from '../../compiler/api.js';

export interface NamedVariable {
  /** The parameter path (`prior/level2/conv1/kernel`): the key in checkpoints. */
  name: string;
  variable: Variable;
  /** Whether weight regularisation applies (conv kernels, not biases). */
  regularize: boolean;
}

export interface TrainableModel {
  segmenter: ProbabilisticSegmenter;
  /** Sorted by name: the order of weights in checkpoints and of Adam's moment slots. */
  variables: NamedVariable[];
}

/** Builds a TrainableModel from a name -> variable map and the set of regularised names. */
export function trainableModel(
  segmenter: ProbabilisticSegmenter,
  variables: Iterable<[string, Variable]>,
  isRegularized: (name: string) => boolean,
): TrainableModel {
  const list = [...variables]
    .map(([name, variable]) => ({ name, variable, regularize: isRegularized(name) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { segmenter, variables: list };
}
