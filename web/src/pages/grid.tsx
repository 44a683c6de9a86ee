/** Placeholder: filled in by the view's owner. */
export function GridPage() {
  return <section><h1>grid</h1></section>;
}
