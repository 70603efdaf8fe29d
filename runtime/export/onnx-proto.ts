/**
 * The part of ONNX's protobuf schema (onnx.proto, IR version 7) that punet writes, declared for
 * protobufjs, and a small graph builder on top. Field numbers are ONNX's; names are camelCase as
 * protobufjs expects. Every tensor is stored as little-endian raw_data.
 */
import protobuf from 'protobufjs';

const f = (type: string, id: number, rule?: 'repeated') => (rule ? { type, id, rule } : { type, id });

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: f('int64', 1),
            producerName: f('string', 2),
            producerVersion: f('string', 3),
            docString: f('string', 6),
            graph: f('GraphProto', 7),
            opsetImport: f('OperatorSetIdProto', 8, 'repeated'),
            metadataProps: f('StringStringEntryProto', 14, 'repeated'),
          },
        },
        OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
        StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
        GraphProto: {
          fields: {
            node: f('NodeProto', 1, 'repeated'),
            name: f('string', 2),
            initializer: f('TensorProto', 5, 'repeated'),
            docString: f('string', 10),
            input: f('ValueInfoProto', 11, 'repeated'),
            output: f('ValueInfoProto', 12, 'repeated'),
          },
        },
        NodeProto: {
          fields: {
            input: f('string', 1, 'repeated'),
            output: f('string', 2, 'repeated'),
            name: f('string', 3),
            opType: f('string', 4),
            attribute: f('AttributeProto', 5, 'repeated'),
          },
        },
        AttributeProto: {
          fields: {
            name: f('string', 1),
            f: f('float', 2),
            i: f('int64', 3),
            s: f('bytes', 4),
            floats: f('float', 7, 'repeated'),
            ints: f('int64', 8, 'repeated'),
            type: f('int32', 20),
          },
        },
        TensorProto: {
          fields: { dims: f('int64', 1, 'repeated'), dataType: f('int32', 2), name: f('string', 8), rawData: f('bytes', 9) },
        },
        ValueInfoProto: { fields: { name: f('string', 1), type: f('TypeProto', 2) } },
        TypeProto: { fields: { tensorType: f('TensorTypeProto', 1) } },
        TensorTypeProto: { fields: { elemType: f('int32', 1), shape: f('TensorShapeProto', 2) } },
        TensorShapeProto: { fields: { dim: f('Dimension', 1, 'repeated') } },
        Dimension: { fields: { dimValue: f('int64', 1), dimParam: f('string', 2) } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(SCHEMA);
const ModelProto = root.lookupType('onnx.ModelProto');

/** ONNX TensorProto.DataType and AttributeProto.AttributeType values. */
const DTYPE = { float: 1, int64: 7 } as const;
const ATTR = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

export type Attribute = { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] };

/** A dimension: a fixed size or a named free one ('batch'). */
export type Dim = number | string;

interface Node {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: object[];
}

/** Builds one graph: values are named by the builder, nodes are appended in execution order. */
export class OnnxGraph {
  private readonly nodes: Node[] = [];
  private readonly initializers: object[] = [];
  private readonly inputs: object[] = [];
  private readonly outputs: object[] = [];
  private count = 0;

  private fresh(prefix: string): string {
    return `${prefix}_${this.count++}`;
  }

  input(name: string, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** Marks `value` as a graph output named `name` (through an Identity when the names differ). */
  output(name: string, value: string, dims: Dim[]): void {
    if (value !== name) this.nodes.push({ input: [value], output: [name], name: `${name}/identity`, opType: 'Identity', attribute: [] });
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 weight or constant, stored as an initializer. */
  floats(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, dataType: DTYPE.float, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  /** An int64 constant (shapes, axes, sizes). */
  ints(values: number[], prefix = 'const'): string {
    const name = this.fresh(prefix);
    const data = BigInt64Array.from(values.map(BigInt));
    this.initializers.push({ name, dims: [values.length], dataType: DTYPE.int64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** Appends a node; returns its (single) output's name. '' inputs are ONNX's "omitted". */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, name?: string): string {
    const output = this.fresh(name ?? opType.toLowerCase());
    this.nodes.push({ input: inputs, output: [output], name: output, opType, attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)) });
    return output;
  }

  /** The serialized ModelProto. */
  encode(meta: { opset: number; producerVersion: string; graphName: string; doc: string; properties: Record<string, string> }): Uint8Array {
    const model = ModelProto.fromObject({
      irVersion: 7,
      producerName: 'punet',
      producerVersion: meta.producerVersion,
      docString: meta.doc,
      opsetImport: [{ domain: '', version: meta.opset }],
      metadataProps: Object.entries(meta.properties).map(([key, value]) => ({ key, value })),
      graph: { name: meta.graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: Dim[]): object {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: DTYPE.float, shape: { dim } } } };
}

function attribute(name: string, a: Attribute): object {
  if ('i' in a) return { name, type: ATTR.int, i: a.i };
  if ('f' in a) return { name, type: ATTR.float, f: a.f };
  if ('s' in a) return { name, type: ATTR.string, s: new TextEncoder().encode(a.s) };
  if ('ints' in a) return { name, type: ATTR.ints, ints: a.ints };
  return { name, type: ATTR.floats, floats: a.floats };
}
