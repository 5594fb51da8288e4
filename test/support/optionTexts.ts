import fc from 'fast-check';

/**
 * Black-Scholes options as JSON text, for the tests of the reader that takes a large batch's
 * options from a job's bytes (optionsReader.ts) and of what the command line builds from it
 * (presentedOptions.ts): numbers in every form JSON allows, keys in any order, any spacing.
 */

/** A JSON number's text in any of its forms: signs, leading "0.", fractions, exponents of either case and sign, 17+ digits. */
export const numberText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.constant('0'), fc.bigInt({ min: 1n, max: 10n ** 20n }).map(String)),
    fc.option(fc.stringMatching(/^[0-9]{1,20}$/), { nil: undefined }),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 400 })), { nil: undefined }),
  )
  .map(([negative, whole, fraction, exponent]) => `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}${exponent ? exponent.join('') : ''}`);

/** An option's fields as texts: any numbers, so mostly ones the schema refuses. */
export const plainOption = fc.record(
  {
    option_type: fc.constantFrom('call', 'put'),
    spot: numberText,
    strike: numberText,
    time_to_expiry: numberText,
    risk_free_rate: numberText,
    dividend_yield: numberText,
    volatility: numberText,
    market_price: numberText,
  },
  { requiredKeys: ['spot', 'strike', 'time_to_expiry', 'volatility'] },
);

/** A number in [min, max] written in one of the forms a publisher might use (a trailing zero, an exponent, -0). */
export function numberTextWithin(min: number, max: number) {
  return fc
    .tuple(fc.double({ min, max, noNaN: true }), fc.nat(5), fc.nat(12))
    .map(([value, form, digits]) =>
      [String(value), value.toExponential(), value.toExponential(digits).replace('e', 'E'), value.toFixed(Math.min(digits, 8)), `${value}`.includes('.') ? `${value}0` : `${value}.0`, String(value).replace('e+', 'e')][form],
    )
    .filter((text) => Number(text) >= min && Number(text) <= max && !/^-?0\d/.test(text));
}

/** An option the schema mostly accepts (each field within its range), with its fields as texts. */
export const validOption = fc.record(
  {
    option_type: fc.constantFrom('call', 'put'),
    spot: numberTextWithin(1e-6, 1e9),
    strike: numberTextWithin(1e-6, 1e9),
    time_to_expiry: numberTextWithin(1e-9, 100),
    risk_free_rate: numberTextWithin(-1, 1),
    dividend_yield: numberTextWithin(-1, 1),
    volatility: numberTextWithin(1e-9, 100),
    market_price: numberTextWithin(0, 1e9),
  },
  { requiredKeys: ['spot', 'strike', 'time_to_expiry'] },
).filter((option) => option.volatility !== undefined || option.market_price !== undefined);

/** An option's JSON text with its keys in the given order and the numbers' texts as they are. */
export function optionText(option: Record<string, string>, order: readonly number[], space: string): string {
  const keys = Object.keys(option);
  const sorted = order.map((i) => keys[i % keys.length]!).filter((key, i, all) => all.indexOf(key) === i);
  for (const key of keys) if (!sorted.includes(key)) sorted.push(key);
  return `{${space}${sorted.map((key) => `"${key}"${space}:${space}${key === 'option_type' ? `"${option[key]}"` : option[key]}`).join(`,${space}`)}${space}}`;
}
