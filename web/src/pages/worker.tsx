/** Placeholder: filled in by the view's owner. */
export function WorkerPage() {
  return <section><h1>worker</h1></section>;
}
