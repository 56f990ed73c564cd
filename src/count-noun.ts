/**
 * `1 second`, `2 seconds`: a count with its noun in the right number, for messages people read
 * ("Retry after 1 second", "got 1 character"). `plural` defaults to the singular plus "s".
 */
export function countNoun(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
