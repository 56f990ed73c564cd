/**
 * `message` with every character it shows beside its code point (`"/" (Unicode 002F)`) replaced
 * by `CHAR`, so that the rest can be checked for characters gRPC clients leave percent-encoded.
 * Throws when a shown character is not the one its code point names.
 */
export function withoutShownCharacters(message: string): string {
  return message.replace(
    /(?:"(.)"|'(")') \(Unicode ([0-9A-F]{4,6})\)/gsu,
    (whole, quoted: string | undefined, quote: string | undefined, hex: string) => {
      if ((quoted ?? quote)?.codePointAt(0) !== Number.parseInt(hex, 16)) {
        throw new Error(`${whole} shows another character than its code point`);
      }
      return "CHAR";
    },
  );
}
