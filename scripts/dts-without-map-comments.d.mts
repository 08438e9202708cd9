/** See dts-without-map-comments.mjs: a tsdown `build:done` hook. */
export function dtsWithoutMapComments(context: { options: { outDir: string } }): Promise<void>
