// What a WebGPU adapter is, in the words the one-line backend report uses, and whether it is a
// GPU emulated on the CPU (Mesa lavapipe/llvmpipe, SwiftShader, WARP...).

export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  isSoftware: boolean;
}

/** The parts of a GPUAdapter read here (older Dawn builds lack `info`, or isFallbackAdapter). */
export interface GpuAdapterLike {
  info?: {
    vendor?: string;
    architecture?: string;
    device?: string;
    description?: string;
    isFallbackAdapter?: boolean;
  };
  isFallbackAdapter?: boolean;
}

// Names software rasterisers give themselves in the adapter's architecture/description/device.
const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe|\bwarp\b|microsoft basic render|\bsoftware\b/i;

export function isSoftwareAdapter(info: {
  architecture?: string;
  description?: string;
  device?: string;
  isFallbackAdapter?: boolean;
}): boolean {
  if (info.isFallbackAdapter === true) return true;
  return [info.architecture, info.description, info.device].some((s) => typeof s === 'string' && SOFTWARE_NAMES.test(s));
}

export function describeAdapter(adapter: GpuAdapterLike): AdapterReport {
  const info = adapter.info ?? {};
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  // Dawn's description is the driver's own name ("llvmpipe: Mesa 25.0.7 ..."); some drivers
  // leave it empty and only fill `device`.
  const description = info.description || info.device || '';
  const isSoftware = isSoftwareAdapter({
    architecture,
    description,
    device: info.device,
    isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter,
  });
  return { vendor, architecture, description, isSoftware };
}

/** "mesa software (llvmpipe: Mesa 25.0.7 ...), software adapter" */
export function formatAdapter(report: AdapterReport): string {
  const head = [report.vendor, report.architecture].filter((s) => s.length > 0).join(' ') || 'unknown adapter';
  const desc = report.description ? ` (${report.description})` : '';
  return `${head}${desc}${report.isSoftware ? ', software adapter' : ''}`;
}
