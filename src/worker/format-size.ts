/** Sizes for people, in binary multiples as config sizes are: `512 B`, `3.2 KiB`, `1.5 GiB`. (The master has its own in config/units.ts: the agent bundle imports nothing of the master.) */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 || Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
