export declare const repoRoot: string;
export declare function transpileGpuModules(outDir?: string): string;
