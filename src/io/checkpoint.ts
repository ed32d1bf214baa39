import { open } from 'node:fs/promises';
import { CheckpointError } from './errors.js';
import { readNvidiaPickle } from './nvidia-pkl.js';
import type { NvidiaNetwork } from './nvidia-pkl.js';
import { readSafetensors } from './safetensors.js';
import type { LoadedTensor } from './storage.js';
import { flattenTensors } from './tensor-tree.js';
import { isTorchLegacy, readTorchLegacy, readTorchZip } from './torch.js';

/**
 * One entry point for every model file ganvec reads. The format is recognised by the file's first bytes,
 * not its name (downloads get renamed), and anything else, such as an HTML page saved in place of a
 * checkpoint, is a clear error.
 */

export type CheckpointFormat = 'torch-zip' | 'torch-legacy' | 'torchscript' | 'nvidia-pkl' | 'safetensors';

export interface Checkpoint {
  format: CheckpointFormat;
  /** The unpickled object (absent for safetensors). */
  root?: unknown;
  /**
   * Every tensor under a dotted name: the keys of nested dicts (`g_ema.conv1.conv.weight`, `latent_avg`),
   * state_dict() names for modules (TorchScript: `visual.conv1.weight`; NVIDIA: `G_ema.mapping.w_avg`).
   */
  tensors: Map<string, LoadedTensor>;
  /** safetensors `__metadata__`. */
  metadata?: Record<string, string>;
  /** NVIDIA pickles: each network with its class name and init kwargs. */
  networks?: Record<string, NvidiaNetwork>;
}

const HEAD_BYTES = 512;

export async function readCheckpoint(path: string): Promise<Checkpoint> {
  const format = await detectCheckpointFormat(path);
  switch (format) {
    case 'torch-zip':
    case 'torchscript': {
      const { format: kind, root } = await readTorchZip(path);
      return { format: kind, root, tensors: flattenTensors(root) };
    }
    case 'torch-legacy': {
      const root = await readTorchLegacy(path);
      return { format, root, tensors: flattenTensors(root) };
    }
    case 'nvidia-pkl': {
      const { root, networks } = await readNvidiaPickle(path);
      return { format, root, networks, tensors: flattenTensors(root) };
    }
    case 'safetensors': {
      const { tensors, metadata } = await readSafetensors(path);
      return { format, tensors, metadata };
    }
  }
}

/**
 * Recognises a checkpoint by its first bytes. A zip is reported as 'torch-zip' here; whether it is a
 * TorchScript archive is only known once its directory is read.
 */
export async function detectCheckpointFormat(path: string): Promise<CheckpointFormat> {
  const handle = await open(path, 'r');
  let head: Uint8Array;
  let size: number;
  try {
    size = (await handle.stat()).size;
    const buffer = new Uint8Array(Math.min(HEAD_BYTES, size));
    await handle.read(buffer, 0, buffer.length, 0);
    head = buffer;
  } finally {
    await handle.close();
  }
  return formatFromHead(head, size, path);
}

function formatFromHead(head: Uint8Array, size: number, file: string): CheckpointFormat {
  const startsWith = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (startsWith(0x50, 0x4b, 0x03, 0x04)) return 'torch-zip';
  // Pickle protocol 2+ starts with PROTO; torch.save's legacy format is a pickled magic number first.
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return isTorchLegacy(head) ? 'torch-legacy' : 'nvidia-pkl';
  if (looksLikeSafetensors(head, size)) return 'safetensors';
  throw new CheckpointError(file, `not a checkpoint: ${describeForeign(head)}`);
}

function looksLikeSafetensors(head: Uint8Array, size: number): boolean {
  if (head.length < 9) return false;
  const headerLength = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  return headerLength > 0n && headerLength <= BigInt(size - 8) && head[8] === 0x7b /* { */;
}

/** Says what a file that is not a checkpoint looks like, so the user knows what went wrong. */
function describeForeign(head: Uint8Array): string {
  if (head.length === 0) return 'the file is empty (an interrupted download?)';
  const text = new TextDecoder('latin1').decode(head).replace(/^\uFEFF|^ï»¿/, '').trimStart().toLowerCase();
  if (text.startsWith('<!doctype html') || text.startsWith('<html')) {
    return 'it is an HTML page (a web page was saved instead of the file: check the download link, it may need a login or a "confirm download" step)';
  }
  if (text.startsWith('<?xml') || text.startsWith('<error')) return 'it is an XML document (an error response from a download server?)';
  if (text.startsWith('version https://git-lfs')) return 'it is a Git LFS pointer, not the file itself (run `git lfs pull`)';
  if (text.startsWith('{') || text.startsWith('[')) return 'it is a JSON document';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'it is gzip-compressed (decompress it first)';
  if (text.startsWith('\x93numpy')) return 'it is a NumPy .npy array';
  if (head.length > 262 && new TextDecoder('latin1').decode(head.subarray(257, 262)) === 'ustar') {
    return 'it is a tar archive (PyTorch < 0.4 tar checkpoints are not supported)';
  }
  const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `unrecognised format (first bytes ${hex}); expected a torch .pt/.pth, an NVIDIA .pkl or a .safetensors file`;
}
