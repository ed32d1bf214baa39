/**
 * Faces and their 68 landmarks (dlib's layout) from @vladmandic/face-api: its SSD-MobileNetV1 detector and
 * 68-point landmark net, with the weights it ships in `model/`, on TensorFlow.js's WebAssembly backend.
 *
 * Why this way: @tensorflow/tfjs-node cannot install here (it downloads a native library), the pure-JS CPU
 * backend takes about 30 s a photo, and the WASM backend about 1.5 s. face-api's self-contained bundle
 * (`dist/face-api.js`, TensorFlow.js inside) is run with `process` hidden, so TensorFlow.js does not take
 * the Node path that wants tfjs-node; we give it a platform (clock, text codecs, and a `fetch` that reads
 * the .wasm file from disk) and load the weights from the package's files, never from the network.
 * Only the .wasm binary is taken from @tensorflow/tfjs-backend-wasm, single-threaded (no Workers in Node).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RgbImage } from './pil-resample.js';

export interface DetectedFace {
  /** Detector box in photo pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** Detector confidence in [0, 1]. */
  score: number;
  /** 68 landmarks as x, y pairs in photo pixels (136 numbers). */
  landmarks: Float64Array;
}

export interface DetectOptions {
  /** Detections below this confidence are dropped (face-api's default 0.5). */
  minConfidence?: number;
}

/* The parts of face-api's bundle used here (it ships no types for this entry point). */
interface FaceApiTf {
  env(): { setPlatform(name: string, platform: object): void; set(flag: string, value: boolean): void };
  setWasmPaths(prefix: string, usePlatformFetch: boolean): void;
  setBackend(name: string): Promise<boolean>;
  io: { decodeWeights(buffer: ArrayBuffer, specs: unknown[]): Record<string, unknown> };
  tensor3d(values: Int32Array, shape: [number, number, number], dtype: 'int32'): { dispose(): void };
}
interface FaceApiResult {
  detection: { box: { x: number; y: number; width: number; height: number }; score: number };
  landmarks: { positions: Array<{ x: number; y: number }> };
}
interface FaceApi {
  tf: FaceApiTf;
  env: { setEnv(env: unknown): void; createNodejsEnv(): unknown };
  nets: Record<'ssdMobilenetv1' | 'faceLandmark68Net', { loadFromWeightMap(map: Record<string, unknown>): void }>;
  SsdMobilenetv1Options: new (o: { minConfidence: number }) => unknown;
  detectAllFaces(input: unknown, options: unknown): { withFaceLandmarks(): Promise<FaceApiResult[]> };
}

const require = createRequire(import.meta.url);
let loaded: Promise<FaceApi> | undefined;

function asArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
}

async function load(): Promise<FaceApi> {
  const bundle = require.resolve('@vladmandic/face-api/dist/face-api.js');
  const models = join(dirname(bundle), '..', 'model');
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  // The bundle is a script whose IIFE assigns `var faceapi`; run it as a function body to get that value.
  const faceapi = new Function('require', 'process', `${readFileSync(bundle, 'utf8')}\n;return faceapi;`)(require, undefined) as FaceApi;
  const tf = faceapi.tf;
  tf.env().setPlatform('ganvec', {
    fetch: async (path: string) => new Response(readFileSync(path), { headers: { 'content-type': 'application/wasm' } }),
    now: () => performance.now(),
    encode: (s: string) => new TextEncoder().encode(s),
    decode: (b: Uint8Array, encoding: string) => new TextDecoder(encoding).decode(b),
    isTypedArray: (a: unknown) => ArrayBuffer.isView(a) && !(a instanceof DataView),
  });
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  tf.setWasmPaths(`${wasmDir}/`, true);
  if (!(await tf.setBackend('wasm'))) throw new Error('face detection: TensorFlow.js could not start its WebAssembly backend');
  faceapi.env.setEnv(faceapi.env.createNodejsEnv());
  const weights = (name: string) => {
    const [manifest] = JSON.parse(readFileSync(join(models, `${name}-weights_manifest.json`), 'utf8')) as Array<{ paths: string[]; weights: unknown[] }>;
    const bins = manifest!.paths.map((p) => readFileSync(join(models, p)));
    return tf.io.decodeWeights(asArrayBuffer(Buffer.concat(bins)), manifest!.weights);
  };
  faceapi.nets.ssdMobilenetv1.loadFromWeightMap(weights('ssd_mobilenetv1_model'));
  faceapi.nets.faceLandmark68Net.loadFromWeightMap(weights('face_landmark_68_model'));
  return faceapi;
}

/** Every face in the photo with its landmarks, largest box first. */
export async function detectFaces(photo: RgbImage, options: DetectOptions = {}): Promise<DetectedFace[]> {
  loaded ??= load();
  const faceapi = await loaded;
  const input = faceapi.tf.tensor3d(Int32Array.from(photo.data), [photo.height, photo.width, 3], 'int32');
  try {
    const found = await faceapi.detectAllFaces(input, new faceapi.SsdMobilenetv1Options({ minConfidence: options.minConfidence ?? 0.5 })).withFaceLandmarks();
    const faces = found.map((f) => ({
      box: { x: f.detection.box.x, y: f.detection.box.y, width: f.detection.box.width, height: f.detection.box.height },
      score: f.detection.score,
      landmarks: Float64Array.from(f.landmarks.positions.flatMap((p) => [p.x, p.y])),
    }));
    return faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  } finally {
    input.dispose();
  }
}
