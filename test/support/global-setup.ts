// Filled in with the database harness.
export default function setup(): void {}
