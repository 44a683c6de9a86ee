/** Placeholder: filled in by the view's owner. */
export function WorkersPage() {
  return <section><h1>workers</h1></section>;
}
