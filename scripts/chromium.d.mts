/** The path of a runnable Chromium: `CHROMIUM_PATH` when set, else a usual install location. */
export function findChromium(): string | undefined
/** Flags that let Chromium run headless as root in a container with no outside network. */
export const CHROMIUM_ARGS: string[]
