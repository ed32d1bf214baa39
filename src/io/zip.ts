import { crc32, inflateRawSync } from 'node:zlib';
import type { ByteSource } from './byte-source.js';
import { CheckpointError } from './errors.js';
import type { ReadBudget } from './read-budget.js';

/**
 * Reading zip archives (torch.save since PyTorch 1.6 and TorchScript archives are zips) by random access,
 * so a multi-gigabyte checkpoint is never read whole: only the central directory and the records asked for.
 * Supports ZIP64 (end-of-central-directory record, locator and extra fields), stored and deflated entries.
 * Every entry read is charged to the file's memory budget first (entries may overlap, so the same bytes
 * can be claimed many times), and deflate is never asked for more than the entry declares.
 */

export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;
/** Deflate's best case is a 258-byte match per two bits: no stream expands more than this. */
const MAX_DEFLATE_RATIO = 1032;

export class ZipArchive {
  /** Entries by name, in central-directory order. */
  readonly entries = new Map<string, ZipEntry>();

  private constructor(
    private readonly source: ByteSource,
    private readonly file: string,
    private readonly budget: ReadBudget,
  ) {}

  static open(source: ByteSource, file: string, budget: ReadBudget): ZipArchive {
    const archive = new ZipArchive(source, file, budget);
    archive.readCentralDirectory();
    return archive;
  }

  private fail(problem: string): CheckpointError {
    return new CheckpointError(this.file, problem);
  }

  private readCentralDirectory(): void {
    const { source } = this;
    // The end-of-central-directory record is the last 22 bytes plus a comment of up to 65535 bytes.
    const tailLength = Math.min(source.size, 22 + 0xffff);
    const tailStart = source.size - tailLength;
    const tail = source.read(tailStart, tailLength);
    const tailView = view(tail);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tailView.getUint32(i, true) === EOCD_SIGNATURE) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      throw this.fail('zip end-of-central-directory record not found: the file is truncated or not a zip archive');
    }
    let entryCount: number = tailView.getUint16(eocd + 10, true);
    let directorySize: number = tailView.getUint32(eocd + 12, true);
    let directoryOffset: number = tailView.getUint32(eocd + 16, true);

    // ZIP64: a locator just before the EOCD points at a 64-bit EOCD record with the real values.
    const locator = eocd - 20;
    if (locator >= 0 && tailView.getUint32(locator, true) === ZIP64_LOCATOR_SIGNATURE) {
      const recordOffset = this.safe(tailView.getBigUint64(locator + 8, true));
      const record = source.read(recordOffset, 56);
      const recordView = view(record);
      if (record.length < 56 || recordView.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) {
        throw this.fail('zip64 end-of-central-directory record is missing or corrupt');
      }
      entryCount = this.safe(recordView.getBigUint64(32, true));
      directorySize = this.safe(recordView.getBigUint64(40, true));
      directoryOffset = this.safe(recordView.getBigUint64(48, true));
    }
    if (directoryOffset + directorySize > source.size) {
      throw this.fail(
        `zip central directory (${directorySize} bytes at ${directoryOffset}) lies past the end of the ` +
          `${source.size}-byte file: the file is truncated`,
      );
    }

    const directory = source.read(directoryOffset, directorySize);
    const dirView = view(directory);
    let at = 0;
    for (let i = 0; i < entryCount; i++) {
      if (at + 46 > directory.length || dirView.getUint32(at, true) !== CENTRAL_SIGNATURE) {
        throw this.fail(`zip central directory entry ${i} is corrupt`);
      }
      const flags = dirView.getUint16(at + 8, true);
      const nameLength = dirView.getUint16(at + 28, true);
      const extraLength = dirView.getUint16(at + 30, true);
      const commentLength = dirView.getUint16(at + 32, true);
      const name = new TextDecoder().decode(directory.subarray(at + 46, at + 46 + nameLength));
      if (flags & 1) throw this.fail(`zip entry ${name} is encrypted`);
      const entry: ZipEntry = {
        name,
        method: dirView.getUint16(at + 10, true),
        crc32: dirView.getUint32(at + 16, true),
        compressedSize: dirView.getUint32(at + 20, true),
        size: dirView.getUint32(at + 24, true),
        localHeaderOffset: dirView.getUint32(at + 42, true),
      };
      this.applyZip64Extra(entry, directory.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength));
      this.entries.set(name, entry);
      at += 46 + nameLength + extraLength + commentLength;
    }
  }

  /** Fields that overflow 32 bits are 0xFFFFFFFF in the record and follow, in order, in extra field 0x0001. */
  private applyZip64Extra(entry: ZipEntry, extra: Uint8Array): void {
    const extraView = view(extra);
    for (let at = 0; at + 4 <= extra.length; ) {
      const id = extraView.getUint16(at, true);
      const length = extraView.getUint16(at + 2, true);
      if (id === 0x0001) {
        let field = at + 4;
        const next = (): number => {
          if (field + 8 > at + 4 + length) throw this.fail(`zip64 extra field of ${entry.name} is too short`);
          const value = this.safe(extraView.getBigUint64(field, true));
          field += 8;
          return value;
        };
        if (entry.size === 0xffffffff) entry.size = next();
        if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
        if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
        return;
      }
      at += 4 + length;
    }
  }

  private safe(value: bigint): number {
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`zip offset ${value} is too large`);
    return Number(value);
  }

  /** The uncompressed bytes of one entry, checked against its size and CRC-32. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (entry === undefined) throw this.fail(`zip entry ${name} is missing`);
    const header = this.source.read(entry.localHeaderOffset, 30);
    if (header.length < 30 || view(header).getUint32(0, true) !== LOCAL_SIGNATURE) {
      throw this.fail(`zip entry ${name}: local header is missing or corrupt (file truncated?)`);
    }
    // The local header's name and extra lengths can differ from the central directory's (torch pads here).
    const dataStart = entry.localHeaderOffset + 30 + view(header).getUint16(26, true) + view(header).getUint16(28, true);
    if (entry.method !== STORED && entry.method !== DEFLATED) {
      throw this.fail(`zip entry ${name} uses compression method ${entry.method}; only stored and deflate are supported`);
    }
    const available = Math.max(0, this.source.size - dataStart);
    if (entry.compressedSize > available) {
      throw this.fail(`zip entry ${name} needs ${entry.compressedSize} bytes but the file ends after ${available}: the file is truncated`);
    }
    if (entry.method === DEFLATED && entry.size > MAX_DEFLATE_RATIO * entry.compressedSize) {
      throw this.fail(
        `zip entry ${name} declares ${entry.size} bytes from ${entry.compressedSize} compressed bytes, more than deflate can expand to (corrupt)`,
      );
    }
    this.budget.charge(entry.compressedSize + (entry.method === STORED ? 0 : entry.size), () => `zip entry ${name}`);
    const stored = this.source.read(dataStart, entry.compressedSize);
    const data = entry.method === STORED ? stored : this.inflate(name, stored, entry.size);
    if (data.length !== entry.size) {
      throw this.fail(`zip entry ${name} has ${data.length} bytes, its directory says ${entry.size}`);
    }
    if (crc32(data) !== entry.crc32) throw this.fail(`zip entry ${name} is corrupt (CRC-32 mismatch)`);
    return data;
  }

  /** Inflates at most `size` bytes: a zip bomb's directory says little and its data expands a thousandfold. */
  private inflate(name: string, compressed: Uint8Array, size: number): Uint8Array {
    try {
      // maxOutputLength must be at least 1; an empty entry that inflates to one byte fails the size check.
      return new Uint8Array(inflateRawSync(compressed, { maxOutputLength: Math.max(1, size) }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new CheckpointError(this.file, `zip entry ${name} inflates to more than the ${size} bytes its directory declares`, { cause: err });
      }
      throw new CheckpointError(this.file, `zip entry ${name}: corrupt deflate data`, { cause: err });
    }
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
