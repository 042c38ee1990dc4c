/**
 * Which external data files an .onnx graph needs (tensors with data_location = EXTERNAL), read straight from
 * the protobuf so a missing or truncated `<file>.data` is reported by name before ONNX Runtime tries to open
 * it (its own error is an errno deep inside a load failure). Large inline tensors are skipped, not read: only
 * field headers and the small external_data entries are. Walks the main graph's initializers, sparse
 * initializers, and node attribute tensors and subgraphs (If/Loop bodies).
 *
 * Wire format: tag varint = field << 3 | type; type 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
 * ModelProto.graph = 7; GraphProto.node = 1, .initializer = 5, .sparse_initializer = 15;
 * NodeProto.attribute = 5; AttributeProto.t = 5, .g = 6, .tensors = 10, .graphs = 11;
 * SparseTensorProto.values = 1, .indices = 2; TensorProto.external_data = 13 (key = 1, value = 2),
 * .data_location = 14 (1 = EXTERNAL).
 */
import { type FileHandle, open } from 'node:fs/promises';

export interface ExternalRef {
  location: string; // relative to the graph file's directory
  end: number; // offset + length: the data file must be at least this long (0 when length is not given)
}

const WINDOW = 1 << 16;

class Reader {
  private buf = Buffer.alloc(0);
  private start = 0; // file offset of buf[0]

  constructor(
    private readonly fd: FileHandle,
    readonly size: number,
  ) {}

  /** Ensures bytes [pos, pos + n) are in the window (n <= WINDOW unless the caller reads a bigger string). */
  private async load(pos: number, n: number): Promise<void> {
    if (pos >= this.start && pos + n <= this.start + this.buf.length) return;
    if (pos + n > this.size) throw new Error('truncated protobuf');
    const len = Math.min(Math.max(WINDOW, n), this.size - pos);
    this.buf = Buffer.alloc(len);
    await this.fd.read(this.buf, 0, len, pos);
    this.start = pos;
  }

  async varint(pos: number): Promise<[number, number]> {
    await this.load(pos, Math.min(10, this.size - pos));
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[pos - this.start + i];
      if (b === undefined) throw new Error('truncated varint');
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return [value, pos + i + 1];
    }
    throw new Error('bad varint');
  }

  async bytes(pos: number, n: number): Promise<Buffer> {
    await this.load(pos, n);
    return this.buf.subarray(pos - this.start, pos - this.start + n);
  }
}

type Visit = (field: number, start: number, end: number) => Promise<void>;

/** Calls `visit` for every length-delimited field of the message in [start, end); skips everything else. */
async function fields(
  r: Reader,
  start: number,
  end: number,
  visit: Visit,
  varints?: (f: number, v: number) => void,
) {
  let pos = start;
  while (pos < end) {
    const [tag, afterTag] = await r.varint(pos);
    const field = Math.floor(tag / 8);
    const type = tag % 8;
    if (type === 0) {
      const [v, next] = await r.varint(afterTag);
      varints?.(field, v);
      pos = next;
    } else if (type === 1) pos = afterTag + 8;
    else if (type === 5) pos = afterTag + 4;
    else if (type === 2) {
      const [len, body] = await r.varint(afterTag);
      if (body + len > end) throw new Error('field overruns its message');
      await visit(field, body, body + len);
      pos = body + len;
    } else throw new Error(`unsupported wire type ${type}`);
  }
}

async function tensor(r: Reader, start: number, end: number, out: ExternalRef[]): Promise<void> {
  let external = false;
  const entry: Record<string, string> = {};
  await fields(
    r,
    start,
    end,
    async (f, s, e) => {
      if (f !== 13) return;
      let key = '';
      let value = '';
      await fields(r, s, e, async (ef, es, ee) => {
        if (ef === 1) key = (await r.bytes(es, ee - es)).toString('utf8');
        if (ef === 2) value = (await r.bytes(es, ee - es)).toString('utf8');
      });
      entry[key] = value;
    },
    (f, v) => {
      if (f === 14) external = v === 1;
    },
  );
  if (!external || entry.location === undefined) return;
  const length = Number(entry.length ?? 0);
  out.push({ location: entry.location, end: length > 0 ? Number(entry.offset ?? 0) + length : 0 });
}

async function graph(r: Reader, start: number, end: number, out: ExternalRef[]): Promise<void> {
  await fields(r, start, end, async (f, s, e) => {
    if (f === 5) await tensor(r, s, e, out);
    else if (f === 15)
      await fields(r, s, e, (sf, ss, se) => (sf <= 2 ? tensor(r, ss, se, out) : Promise.resolve()));
    else if (f === 1)
      await fields(r, s, e, (nf, ns, ne) =>
        nf === 5
          ? fields(r, ns, ne, async (af, as, ae) => {
              if (af === 5 || af === 10) await tensor(r, as, ae, out);
              if (af === 6 || af === 11) await graph(r, as, ae, out);
            })
          : Promise.resolve(),
      );
  });
}

/**
 * External data references of an .onnx file, or undefined when the file is not a readable ModelProto
 * (ONNX Runtime then reports the broken graph itself).
 */
export async function externalDataRefs(file: string): Promise<ExternalRef[] | undefined> {
  const fd = await open(file, 'r');
  try {
    const r = new Reader(fd, (await fd.stat()).size);
    const out: ExternalRef[] = [];
    await fields(r, 0, r.size, async (f, s, e) => {
      if (f === 7) await graph(r, s, e, out);
    });
    return out;
  } catch {
    return undefined;
  } finally {
    await fd.close();
  }
}
