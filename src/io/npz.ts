/**
 * NumPy `.npz` archives (what `numpy.savez` writes: a zip of `.npy` files, stored uncompressed), read by
 * random access and written as a stream, so a file of many large arrays is never held in memory whole.
 * ZIP64 records are written once offsets pass 4 GiB, as Python's zipfile does.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Tensor, TensorData } from '../core/tensor.js';
import { syncDirectory, temporaryPath } from './atomic.js';
import { withFileSource } from './byte-source.js';
import { CheckpointError } from './errors.js';
import { encodeNpy, parseNpy } from './npy.js';
import { ReadBudget } from './read-budget.js';
import { ZipArchive } from './zip.js';

/** Every array of an .npz, by its name without `.npy`. */
export function readNpz(path: string): Map<string, Tensor<TensorData>> {
  return withFileSource(path, (source) => {
    const zip = ZipArchive.open(source, path, new ReadBudget(path, source.size));
    const arrays = new Map<string, Tensor<TensorData>>();
    for (const name of zip.entries.keys()) {
      if (!name.endsWith('.npy')) throw new CheckpointError(path, `${name} in the archive is not a .npy array`);
      arrays.set(name.slice(0, -4), parseNpy(zip.read(name), `${path}:${name}`));
    }
    return arrays;
  });
}

const U32_MAX = 0xffffffff;
/** 1980-01-01, the earliest date a zip can hold; numpy.savez writes it too. */
const DOS_DATE = 0x21;

interface Written {
  name: Uint8Array;
  crc: number;
  size: number;
  offset: number;
}

/** Appends arrays to a temporary file; `close` writes the directory and renames it into place. */
export class NpzWriter {
  private readonly temp: string;
  private readonly fd: number;
  private readonly written: Written[] = [];
  private at = 0;

  /** `zip64Beyond`: offsets past this many bytes use ZIP64 records (lower only to test them). */
  constructor(readonly path: string, private readonly zip64Beyond = U32_MAX) {
    this.temp = temporaryPath(path);
    this.fd = openSync(this.temp, 'wx');
  }

  add(name: string, t: Tensor<Float32Array | BigInt64Array>): void {
    const data = encodeNpy(t);
    if (data.length >= U32_MAX) throw new Error(`${this.path}: array ${name} is larger than a zip entry without ZIP64 sizes can hold`);
    const entry = { name: new TextEncoder().encode(`${name}.npy`), crc: crc32(data), size: data.length, offset: this.at };
    const header = new DataView(new ArrayBuffer(30));
    header.setUint32(0, 0x04034b50, true);
    header.setUint16(4, 20, true); // version needed: 2.0
    header.setUint16(12, DOS_DATE, true);
    header.setUint32(14, entry.crc, true);
    header.setUint32(18, entry.size, true);
    header.setUint32(22, entry.size, true);
    header.setUint16(26, entry.name.length, true);
    this.write(new Uint8Array(header.buffer), entry.name, data);
    this.written.push(entry);
  }

  /** Writes the central directory, flushes and renames over `path`. */
  close(): void {
    try {
      const directoryStart = this.at;
      for (const e of this.written) this.write(...centralRecord(e, e.offset > this.zip64Beyond));
      const directorySize = this.at - directoryStart;
      const big = directoryStart > this.zip64Beyond || directorySize > this.zip64Beyond;
      if (this.written.length > 0xffff || big) {
        this.write(zip64End(this.written.length, directoryStart, directorySize, this.at));
      }
      const end = new DataView(new ArrayBuffer(22));
      end.setUint32(0, 0x06054b50, true);
      end.setUint16(8, Math.min(this.written.length, 0xffff), true);
      end.setUint16(10, Math.min(this.written.length, 0xffff), true);
      end.setUint32(12, big ? U32_MAX : directorySize, true);
      end.setUint32(16, big ? U32_MAX : directoryStart, true);
      this.write(new Uint8Array(end.buffer));
      fsyncSync(this.fd);
    } catch (err) {
      this.abandon();
      throw err;
    }
    closeSync(this.fd);
    renameSync(this.temp, this.path);
    syncDirectory(dirname(this.path));
  }

  /** Removes the temporary file; `path` is left as it was. */
  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.temp, { force: true });
  }

  private write(...parts: Uint8Array[]): void {
    for (const part of parts) {
      for (let done = 0; done < part.length; ) done += writeSync(this.fd, part, done, part.length - done, this.at + done);
      this.at += part.length;
    }
  }
}

/** A central-directory record; an offset past 4 GiB goes into a ZIP64 extra field. */
function centralRecord(e: Written, big: boolean): Uint8Array[] {
  const record = new DataView(new ArrayBuffer(46));
  record.setUint32(0, 0x02014b50, true);
  record.setUint16(4, big ? 45 : 20, true); // version made by
  record.setUint16(6, big ? 45 : 20, true); // version needed (4.5: ZIP64)
  record.setUint16(14, DOS_DATE, true);
  record.setUint32(16, e.crc, true);
  record.setUint32(20, e.size, true);
  record.setUint32(24, e.size, true);
  record.setUint16(28, e.name.length, true);
  record.setUint16(30, big ? 12 : 0, true);
  record.setUint32(42, big ? U32_MAX : e.offset, true);
  if (!big) return [new Uint8Array(record.buffer), e.name];
  const extra = new DataView(new ArrayBuffer(12));
  extra.setUint16(0, 0x0001, true);
  extra.setUint16(2, 8, true);
  extra.setBigUint64(4, BigInt(e.offset), true);
  return [new Uint8Array(record.buffer), e.name, new Uint8Array(extra.buffer)];
}

/** The ZIP64 end-of-central-directory record and its locator. */
function zip64End(count: number, directoryStart: number, directorySize: number, recordOffset: number): Uint8Array {
  const out = new DataView(new ArrayBuffer(56 + 20));
  out.setUint32(0, 0x06064b50, true);
  out.setBigUint64(4, 44n, true); // size of the rest of the record
  out.setUint16(12, 45, true);
  out.setUint16(14, 45, true);
  out.setBigUint64(24, BigInt(count), true);
  out.setBigUint64(32, BigInt(count), true);
  out.setBigUint64(40, BigInt(directorySize), true);
  out.setBigUint64(48, BigInt(directoryStart), true);
  out.setUint32(56, 0x07064b50, true);
  out.setBigUint64(64, BigInt(recordOffset), true);
  out.setUint32(72, 1, true); // disks
  return new Uint8Array(out.buffer);
}
