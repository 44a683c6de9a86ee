/** Placeholder: filled in by the view's owner. */
export function ConsolePage() {
  return <section><h1>console</h1></section>;
}
