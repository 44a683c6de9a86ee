/** Placeholder: filled in by the view's owner. */
export function HomePage() {
  return <section><h1>home</h1></section>;
}
