import { CheckpointError } from './errors.js';

/**
 * How much memory reading one file may take, in proportion to its size. A well-formed checkpoint needs
 * a few times its size (its storages decoded, fp16 widened, strided views copied); a corrupt or hostile
 * one can ask for far more from a few bytes: a megabyte of EMPTY_DICT opcodes is 200 MB of Maps, a zip
 * entry can claim to inflate a thousandfold, memo references and stride-0 views repeat the same data.
 * Every reader that allocates in proportion to something the file says charges it here first, so such a
 * file is refused with one line instead of exhausting the machine. One budget covers a file and every
 * blob nested in it (the torch.save inside each tensor of an NVIDIA pickle).
 */
export class ReadBudget {
  /** Generous for real checkpoints, which need at most about 5× their size (fp16 storages plus copies). */
  static readonly BYTES_PER_FILE_BYTE = 16;
  /** What any file may take, so small files with a few structures are never refused. */
  static readonly FLOOR = 64 * 2 ** 20;

  readonly limit: number;
  private used = 0;

  constructor(
    readonly file: string,
    fileBytes: number,
  ) {
    this.limit = ReadBudget.FLOOR + ReadBudget.BYTES_PER_FILE_BYTE * fileBytes;
  }

  /**
   * Records `bytes` about to be allocated; refuses the file once the total passes the limit (a NaN
   * charge too). `what` names the allocation, and is only called then: charges are made per opcode.
   */
  charge(bytes: number, what: () => string): void {
    this.used += bytes;
    if (!(this.used <= this.limit)) {
      throw new CheckpointError(
        this.file,
        `reading it would take more than ${Math.round(this.limit / 2 ** 20)} MiB of memory (${what()}), more than a file of its ` +
          `size can need (${ReadBudget.BYTES_PER_FILE_BYTE} bytes per byte of file + ${ReadBudget.FLOOR / 2 ** 20} MiB): ` +
          'it is corrupt or made to exhaust memory',
      );
    }
  }
}
