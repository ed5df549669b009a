package org.rnn4j.io;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * A double as the shortest decimal that reads back to the same double, written as Python's {@code repr} writes it
 * ({@code 0.002}, {@code 5.0}, {@code 1e-08}, {@code 1.2345678901234567e+16}), for JSON that any reader, Python's
 * included, turns back into exactly the value written. (Java 17's {@code Double.toString} is not always the shortest.)
 */
public final class ShortestDouble {

    private ShortestDouble() {
    }

    /**
     * The shortest round-trip form of a finite double.
     *
     * @param v a finite value
     * @return its text, such as {@code 4.174351215362549}
     * @throws IllegalArgumentException for NaN or an infinity, which JSON cannot hold
     */
    public static String toString(double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException("v must be finite, got " + v);
        }
        if (v == 0) {
            return (1 / v < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(v);
        BigDecimal shortest = exact;
        for (int digits = 1; digits <= 17; digits++) {
            BigDecimal d = exact.round(new MathContext(digits, RoundingMode.HALF_EVEN));
            if (d.doubleValue() == v) {
                shortest = d;
                break;
            }
        }
        shortest = shortest.stripTrailingZeros();
        String d = shortest.unscaledValue().abs().toString();
        int n = d.length();
        int exponent = n - 1 - shortest.scale(); // v = d[0].d[1..] * 10^exponent
        StringBuilder out = new StringBuilder(n + 8);
        if (v < 0) {
            out.append('-');
        }
        if (exponent >= -4 && exponent < 16) {
            if (exponent >= n - 1) {
                out.append(d).append("0".repeat(exponent - (n - 1))).append(".0");
            } else if (exponent >= 0) {
                out.append(d, 0, exponent + 1).append('.').append(d, exponent + 1, n);
            } else {
                out.append("0.").append("0".repeat(-exponent - 1)).append(d);
            }
        } else {
            out.append(d.charAt(0));
            if (n > 1) {
                out.append('.').append(d, 1, n);
            }
            out.append('e').append(exponent < 0 ? '-' : '+');
            int e = Math.abs(exponent);
            out.append(e < 10 ? "0" : "").append(e);
        }
        return out.toString();
    }
}
