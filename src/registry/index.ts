/**
 * `ganvec/registry`: the pretrained-model registry, the cache and downloads, for tools that manage models
 * (the `models` command is one). Loading a model by name is also in the main entry point.
 */
export { loadRegistry, MODEL_KINDS, type Registry, type RegistryEntry, type ModelKind } from './registry.js';
export { cachedModelPath, fetchModel, ganvecHome, resolveModel, type ResolvedModel } from './resolve-model.js';
export { DEFAULT_MAX_BYTES, DownloadError, downloadFile, formatBytes, type DownloadProgress, type DownloadSettings } from './download.js';
export { checkFile, readRecordedSha256, recordedHashPath, type FileCheck } from './verify.js';
export { loadClip, loadE4e, loadGenerator, loadLpips, type LoadClipOptions, type LoadEncoderOptions, type LoadGeneratorOptions, type LoadLpipsOptions } from './load.js';
export { cachedDomainPath, fetchDomainFile, isUrl, parseDomainUrl, type FetchDomainOptions } from './domain-url.js';
