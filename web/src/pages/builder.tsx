/** Placeholder: filled in by the view's owner. */
export function BuilderPage() {
  return <section><h1>builder</h1></section>;
}
