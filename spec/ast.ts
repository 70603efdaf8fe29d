/**
 * The syntax tree of a .punet file. Every node carries the source range it came from, so any
 * later stage (schema validation, semantic checks, extends merging) can point back at the text.
 */

export interface Position {
  /** 1-based line. */
  line: number;
  /** 1-based column (UTF-16 code units). */
  col: number;
  /** 0-based character offset into the file. */
  offset: number;
}

/** A half-open span [start, end) inside `file` (an absolute path, or a pseudo-path for in-memory text). */
export interface Range {
  file: string;
  start: Position;
  end: Position;
}

interface NodeBase {
  range: Range;
}

export type Unit = 'px' | 'steps' | 'validations';
export const UNITS: readonly Unit[] = ['px', 'steps', 'validations'];

export interface UnitNode extends NodeBase {
  name: Unit;
}

export interface NumberNode extends NodeBase {
  type: 'number';
  value: number;
  /** The literal as written, e.g. `80k`, `1e-5`, `2%`. */
  text: string;
  unit?: UnitNode;
}

export interface StringNode extends NodeBase {
  type: 'string';
  value: string;
}

/** A bare name used as a value: `avgpool`, `sum-per-image`, `image+mask`. */
export interface IdentNode extends NodeBase {
  type: 'ident';
  value: string;
}

export interface BoolNode extends NodeBase {
  type: 'bool';
  value: boolean;
}

/** `[a, b, c]`, or a size literal `128x128` (which becomes a list of numbers). */
export interface ListNode extends NodeBase {
  type: 'list';
  items: ValueNode[];
  /** True for `128x128`. */
  size?: boolean;
  unit?: UnitNode;
}

/** `name { ... }` as a list item: a contribution with options, e.g. `metrics: [ged, my/metric { k: 3 }]`. */
export interface KindValueNode extends NodeBase {
  type: 'kind';
  kind: KeyNode;
  body: BodyNode;
}

export type ValueNode = NumberNode | StringNode | IdentNode | BoolNode | ListNode | KindValueNode;

export interface KeyNode extends NodeBase {
  name: string;
}

/** `key: value` */
export interface FieldEntry extends NodeBase {
  type: 'field';
  key: KeyNode;
  value: ValueNode;
}

/** `key { ... }`: a plain section (no kind), merged key by key into the base. */
export interface SectionEntry extends NodeBase {
  type: 'section';
  key: KeyNode;
  body: BodyNode;
}

/** `key kind { ... }` or `key kind`: a block whose `kind` names a registered contribution. */
export interface BlockEntry extends NodeBase {
  type: 'block';
  key: KeyNode;
  kind: KeyNode;
  body?: BodyNode;
}

/** `remove key`: deletes `key` inherited from an extended spec. */
export interface RemoveEntry extends NodeBase {
  type: 'remove';
  key: KeyNode;
}

export type Entry = FieldEntry | SectionEntry | BlockEntry | RemoveEntry;

export interface BodyNode extends NodeBase {
  entries: Entry[];
}

export interface UseDecl extends NodeBase {
  module: StringNode;
}

export interface ExtendsDecl extends NodeBase {
  path: StringNode;
}

export interface ModelDecl extends NodeBase {
  name: StringNode;
  body: BodyNode;
}

export interface SpecFile extends NodeBase {
  uses: UseDecl[];
  extends: ExtendsDecl[];
  models: ModelDecl[];
}
