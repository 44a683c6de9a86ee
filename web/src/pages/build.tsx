/** Placeholder: filled in by the view's owner. */
export function BuildPage() {
  return <section><h1>build</h1></section>;
}
