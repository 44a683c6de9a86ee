/** Placeholder: filled in by the view's owner. */
export function BuildersPage() {
  return <section><h1>builders</h1></section>;
}
