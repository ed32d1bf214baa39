/**
 * The benchmark cases, each with the PyTorch reference figure and the FLOP roofline from
 * ../shared/ANCHORS.md (measured on the same 2-core machine). Every case runs in its own process so that
 * its peak RSS is its own.
 */
import { benchAdaptStep } from './adapt-step.js';
import { benchClip } from './clip.js';
import { benchE4e } from './e4e.js';
import { benchGallery256, benchGalleryTiny } from './gallery.js';
import { benchGenerate } from './generate.js';
import { benchAlign, benchLpips } from './photo.js';
import { benchAdaptStepSG3, benchGenerateSG3 } from './stylegan3.js';
import type { BenchRow } from './measure.js';
import { benchPgganAdaptStep, benchPgganGenerate } from './pggan.js';
import { benchWebViewer } from './web-viewer.js';

export interface BenchCase {
  name: string;
  run: () => Promise<BenchRow[]>;
  /** PyTorch 1.13 CPU reference, same unit as the rows. */
  pytorch?: number;
  roofline?: number;
}

export const CASES: BenchCase[] = [
  { name: 'generate-256-b1', run: () => benchGenerate(256, 1), pytorch: 1.49, roofline: 0.54 },
  { name: 'generate-256-b4', run: () => benchGenerate(256, 4), pytorch: 1.76, roofline: 0.54 },
  { name: 'generate-1024-b1', run: () => benchGenerate(1024, 1), pytorch: 6.64, roofline: 0.89 },
  { name: 'generate-1024-b4', run: () => benchGenerate(1024, 4), pytorch: 6.3, roofline: 0.89 },
  { name: 'clip-vit-b32', run: benchClip, pytorch: 0.18, roofline: 0.03 },
  { name: 'adapt-256-b2', run: () => benchAdaptStep(256, 2), pytorch: 14.3, roofline: 4.3 },
  { name: 'adapt-1024-b2', run: () => benchAdaptStep(1024, 2), pytorch: 53.4, roofline: 7.2 },
  { name: 'adapt-1024-b4', run: () => benchAdaptStep(1024, 4) },
  { name: 'adapt-1024-b4-micro2', run: () => benchAdaptStep(1024, 4, 2) },
  { name: 'adapt-1024-b4-micro1', run: () => benchAdaptStep(1024, 4, 1) },
  { name: 'adapt-1024-b4-default', run: () => benchAdaptStep(1024, 4, 'default') },
  { name: 'pggan-generate-256-b1', run: () => benchPgganGenerate(256, 1) },
  { name: 'pggan-generate-1024-b1', run: () => benchPgganGenerate(1024, 1) },
  { name: 'pggan-adapt-256-b2', run: () => benchPgganAdaptStep(256, 2) },
  { name: 'pggan-adapt-1024-b2', run: () => benchPgganAdaptStep(1024, 2) },
  { name: 'web-tiny', run: () => benchWebViewer('tiny') },
  { name: 'web-256', run: () => benchWebViewer(256) },
  { name: 'align-photo', run: benchAlign },
  { name: 'lpips-vgg16-256', run: benchLpips },
  { name: 'e4e-ffhq-256', run: benchE4e },
  { name: 'gallery-build-tiny', run: benchGalleryTiny },
  { name: 'gallery-build-256', run: benchGallery256 },
  { name: 'sg3t-generate-1024-b1', run: () => benchGenerateSG3('stylegan3-t', 1024, 1) },
  { name: 'sg3r-generate-1024-b1', run: () => benchGenerateSG3('stylegan3-r', 1024, 1) },
  // The StyleGAN3-T layer plan at 128 px (NVIDIA's 1024 px channel counts): a step small enough to run here.
  { name: 'sg3t-adapt-128-b1', run: () => benchAdaptStepSG3('stylegan3-t', 128, 1) },
  { name: 'sg3t-adapt-1024-b2', run: () => benchAdaptStepSG3('stylegan3-t', 1024, 2) },
  { name: 'sg3r-adapt-1024-b2', run: () => benchAdaptStepSG3('stylegan3-r', 1024, 2) },
];
