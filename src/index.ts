/**
 * ganvec's public API: load a generator and CLIP models, train or load domain vectors, generate. The
 * commands in src/cli use only what is exported here. Tensors are `{ data: Float32Array, shape: number[] }`,
 * row-major (NCHW for images).
 *
 *   const G = await loadGenerator('ffhq');
 *   const run = await adapt(G, { text: { target: 'pixar' }, clips: [await loadClip('ViT-B/32')], out: 'pixar.dv.safetensors' });
 *   const images = await G.generate({ z: zFromSeeds([0, 1], G.styleDim), domain: run.vector });
 *   const { domain, w } = await G.vjp({ w: W }, cotangent); // gradients of sum(images · cotangent)
 */
export { numel, shapeString, indexString, firstNonFinite, type Tensor } from './core/tensor.js';
export { setWarningHandler, type WarningHandler } from './core/warnings.js';
export { batchSlice } from './engine/batching.js';
export type { Device, SessionOptions } from './engine/session.js';

export { loadGenerator, loadClip, loadLpips, resolveModel, type LoadGeneratorOptions, type LoadClipOptions, type LoadLpipsOptions } from './registry/index.js';
export { lpipsFeatures, lpipsDistance, lpipsWeightsFrom, readLpipsWeights, type LpipsWeights } from './perceptual/lpips.js';
export { readTarget, squareTarget } from './projection/target.js';
export { loadE4e, type LoadEncoderOptions } from './registry/index.js';
export { checkE4eFits, E4eEncoder, E4E_INPUT_SIZE, e4eInput, type E4eEncoderOptions, type WPlusTarget } from './encoders/e4e-encoder.js';
export { e4eEncode, e4eLayout, e4eWeightsFrom, readE4e, type E4eLayout, type E4eWeights } from './encoders/e4e.js';
export { ProjectionCache, projectionDigest, type ProjectionKey } from './projection/cache.js';
export { project, PROJECT_DEFAULTS, type Projection, type ProjectOptions, type ProjectSettings, type ProjectStep } from './projection/projector.js';
export { generatorFromCheckpoint, generatorFromFile, holdsGenerator, readGeneratorFile, type ReadGenerator } from './generators/load.js';
export { Generator, type GenerateOptions, type SynthesizeOptions, type GeneratorOptions } from './generators/generator.js';
export { FAMILIES } from './generators/families.js';
export type { GeneratorFamily, FamilySetting, ModulatedLayer, LayerHooks, SampleInput } from './generators/family.js';
export { zFromSeeds, truncate, toWPlus, mixStyles, sampleInputs, type NoiseMode } from './generators/latents.js';
export { exportOnnx, type OnnxExportOptions, type OnnxInterface } from './generators/onnx-export.js';
export { serveViewer, type ServeViewerOptions, type ViewerServer } from './web/serve.js';
export { readWFile, writeProjectedW, WFileError, type WFile } from './generators/w-file.js';
export { randomRosinalityStateDict } from './generators/stylegan2/random-weights.js';

export { DEFAULT_PARAMETERISATION, parameterisationNames, parameterisationNamed } from './parameterisations/registry.js';
export { vectorSize } from './parameterisations/parameterisation.js';
export type { Parameterisation, ParameterLayer } from './parameterisations/parameterisation.js';
export type { LayerSelection } from './parameterisations/layer-selection.js';

export { clipFromFile, type Clip } from './clip/clip.js';
export { loadPhotos } from './clip/preprocess.js';
export { unitRows, unitVector } from './train/unit-vectors.js';
export {
  tokenize, encode as encodeText, decode as decodeTokens, CONTEXT_LENGTH, START_OF_TEXT, END_OF_TEXT, TextTooLongError,
} from './clip/tokenizer.js';

export { adapt, IMAGE_LOSSES, TEXT_LOSSES, type AdaptOptions, type AdaptOutcome } from './train/adapt.js';
export { DEFAULT_SETTINGS, type AdaptSettings, type StepReport, type AdaptResult } from './train/loop.js';
export { StepRate, formatDuration, stepLine } from './train/progress-text.js';
export { liveProgress, type LiveDisplay } from './notebook/live-progress.js';
export { lossCurvePng, type LossCurveOptions } from './notebook/loss-curve.js';
export { evaluateDomain, type Evaluation, type EvaluationTarget } from './train/evaluate.js';
export { textDirection } from './train/text-direction.js';
export { IMAGENET_TEMPLATES, A_TEMPLATE } from './train/prompt-templates.js';
export { defaultLossWeights, lossNames, parseLossWeights, registerLoss, type LossWeights } from './losses/registry.js';
export type { Loss, EmbeddingLoss, ImageLoss, VectorLoss } from './losses/loss.js';

export {
  DOMAIN_FILE_FORMAT, readDomainFile, writeDomainFile, loadDomainVector, domainVectorProblem, generatorOptionsFor, baseModelMetadata, type DomainFile,
} from './domains/domain-file.js';
export { readForeignDomain, importedDomainFile, type ForeignDomain } from './domains/import.js';
export { mixDomainVectors } from './domains/weighted-sum.js';
export { mixDomainFiles, loadWeightedDomains, parseDomainSpec, type WeightedDomain, type DomainParent } from './domains/mix.js';
export { readImageSet, readImageFile, ImageSetError, type ImageSet, type ImageInput } from './io/image-folder.js';
export { isNpyFile, readNpy, writeNpy } from './io/npy.js';
export { printable, printableJson } from './io/printable.js';
export { MultiLineError } from './io/errors.js';
export type { LoadedTensor } from './io/storage.js';
export { NpzWriter, readNpz } from './io/npz.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export { readCheckpoint, type Checkpoint } from './io/checkpoint.js';
export { imagesToPng, writeImagePng, writeRgbPng } from './io/image.js';
export { gridColumns, imageGridPng, writeImageGrid, type GridOptions } from './io/image-grid.js';
export { writeFileAtomic } from './io/atomic.js';

export { alignPhoto, readRgb, rgbToImageTensor, NoFaceError, type AlignedFace, type AlignPhotoOptions } from './faces/align-photo.js';
export { alignFace, ffhqQuad, type Landmarks68, type FaceQuad } from './faces/ffhq-align.js';
export { detectFaces, type DetectedFace } from './faces/face-detector.js';
export type { RgbImage } from './faces/pil-resample.js';
export { latentWalk, domainWalk, type VideoPlan, type VideoFrame, type LatentWalkOptions, type DomainWalkOptions } from './video/walk.js';
export { renderVideo, type RenderVideoOptions } from './video/render.js';
export { renderProjectionVideo, type ProjectionVideoOptions } from './video/projection.js';
export { findFfmpeg, videoFormatOf, VIDEO_FORMATS, type VideoFormat } from './video/encoder.js';

/** The graph engine, for custom losses: build graphs, differentiate them, run them in ONNX Runtime. */
export { Graph } from './engine/graph.js';
export * as ops from './engine/ops.js';
export { grad } from './engine/grad.js';
export { Session } from './engine/session.js';
export { VERSION } from './version.js';

/** The gallery: generated pictures sorted into themed rooms by CLIP, each with one owner. */
export { buildGallery, GALLERY_DEFAULTS, type GalleryBuildOptions } from './gallery/build.js';
export { readRooms, parseRooms, type Rooms, type Room } from './gallery/rooms.js';
export { readManifest, type GalleryManifest, type GalleryPicture, type GalleryRoom } from './gallery/manifest.js';
export { assignRooms, type Assignment, type AssignmentRule } from './gallery/assignment.js';
export { selectRoomPictures, type SelectionRule } from './gallery/selection.js';
export { serveGallery, SERVE_DEFAULTS, type GalleryServer, type GalleryServerOptions } from './gallery/server.js';
