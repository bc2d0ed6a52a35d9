// Tiny ONNX models for the onnxruntime-node baselines, written as protobuf bytes by hand (field numbers from
// onnx/onnx.proto): no protobuf library and no Python needed.

const VARINT = 0;
const FIXED32 = 5;
const BYTES = 2;
const FLOAT = 1;
const INT32 = 6;

/** A protobuf message under construction. */
class Message {
  private readonly parts: number[] = [];

  private varint(value: number): void {
    // Negative int64 values are sent as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.parts.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.parts.push(Number(v));
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, value: number): this {
    this.key(field, VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, FIXED32);
    const b = new Uint8Array(new Float32Array([value]).buffer);
    this.parts.push(...b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, BYTES);
    this.varint(value.length);
    for (const x of value) this.parts.push(x);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Message): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

type Dim = number | string;

function valueInfo(name: string, dims: readonly Dim[], elemType = FLOAT): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensor = new Message().int(1, elemType).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensor));
}

function attrInt(name: string, value: number): Message {
  return new Message().string(1, name).int(20, 2).int(3, value);
}

function attrInts(name: string, values: readonly number[]): Message {
  const m = new Message().string(1, name).int(20, 7);
  for (const v of values) m.int(8, v);
  return m;
}

function node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Message[] = [], domain = ''): Message {
  const m = new Message();
  for (const i of inputs) m.string(1, i);
  for (const o of outputs) m.string(2, o);
  m.string(4, opType);
  for (const a of attributes) m.message(5, a);
  if (domain) m.string(7, domain);
  return m;
}

function model(graph: Message, opsets: readonly { domain: string; version: number }[]): Uint8Array {
  const m = new Message().int(1, 10).string(2, 'sparseland-bench');
  for (const o of opsets) m.message(8, new Message().string(1, o.domain).int(2, o.version));
  return m.message(7, graph).finish();
}

/**
 * com.microsoft GroupQueryAttention (always causal), prompt without past: query [1, N, Hq·d], key and value
 * [1, N, Hkv·d], seqlens_k = N − 1, total_sequence_length = N. Output [1, N, Hq·d].
 */
export function groupQueryAttentionModel(qHeads: number, kvHeads: number, dim: number): Uint8Array {
  const graph = new Message()
    .message(
      1,
      node(
        'GroupQueryAttention',
        ['Q', 'K', 'V', '', '', 'seqlens_k', 'total_seq'],
        ['O', 'present_k', 'present_v'],
        [attrInt('num_heads', qHeads), attrInt('kv_num_heads', kvHeads)],
        'com.microsoft',
      ),
    )
    .string(2, 'gqa');
  graph.message(11, valueInfo('Q', [1, 'N', qHeads * dim]));
  graph.message(11, valueInfo('K', [1, 'N', kvHeads * dim]));
  graph.message(11, valueInfo('V', [1, 'N', kvHeads * dim]));
  graph.message(11, valueInfo('seqlens_k', [1], INT32));
  graph.message(11, valueInfo('total_seq', [1], INT32));
  graph.message(12, valueInfo('O', [1, 'N', qHeads * dim]));
  graph.message(12, valueInfo('present_k', [1, kvHeads, 'N', dim]));
  graph.message(12, valueInfo('present_v', [1, kvHeads, 'N', dim]));
  return model(graph, [
    { domain: '', version: 17 },
    { domain: 'com.microsoft', version: 1 },
  ]);
}

/**
 * The plain graph: O = Softmax(Q·Kᵀ·scale + mask)·V with standard ops, per head: Q, K, V [H, N, d] (kv heads
 * repeated to H by the caller), mask [N, N] additive (0 or −1e9). Computes the full N×N matrix.
 */
export function matmulSoftmaxModel(heads: number, dim: number): Uint8Array {
  const scale = new Message()
    .int(2, FLOAT)
    .float(4, 1 / Math.sqrt(dim))
    .string(8, 'scale');
  const graph = new Message()
    .message(1, node('Transpose', ['K'], ['Kt'], [attrInts('perm', [0, 2, 1])]))
    .message(1, node('MatMul', ['Q', 'Kt'], ['S']))
    .message(1, node('Mul', ['S', 'scale'], ['Ss']))
    .message(1, node('Add', ['Ss', 'mask'], ['Sm']))
    .message(1, node('Softmax', ['Sm'], ['P'], [attrInt('axis', -1)]))
    .message(1, node('MatMul', ['P', 'V'], ['O']))
    .string(2, 'attention_unfused')
    .message(5, scale);
  graph.message(11, valueInfo('Q', [heads, 'N', dim]));
  graph.message(11, valueInfo('K', [heads, 'N', dim]));
  graph.message(11, valueInfo('V', [heads, 'N', dim]));
  graph.message(11, valueInfo('mask', ['N', 'N']));
  graph.message(12, valueInfo('O', [heads, 'N', dim]));
  return model(graph, [{ domain: '', version: 17 }]);
}
