package org.rnn4j.backend;

import java.util.Locale;

/** The floating-point format a backend stores and computes in, chosen once per run. */
public enum Precision {
    /** IEEE single precision: storage and arithmetic in {@code float}. The default for training. */
    FLOAT32("float32", Float.BYTES),
    /** IEEE double precision: storage and arithmetic in {@code double}; reproduces the seeds' numbers. */
    FLOAT64("float64", Double.BYTES);

    private final String cliName;
    private final int bytes;

    Precision(String cliName, int bytes) {
        this.cliName = cliName;
        this.bytes = bytes;
    }

    /**
     * The name used on the command line and in summaries.
     *
     * @return {@code float32} or {@code float64}
     */
    public String cliName() {
        return cliName;
    }

    /**
     * Bytes per element.
     *
     * @return 4 or 8
     */
    public int bytes() {
        return bytes;
    }

    /**
     * Parses {@code float32} or {@code float64} (case-insensitive).
     *
     * @param name the name, as {@link #cliName()} gives it
     * @return the precision
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Precision parse(String name) {
        for (Precision p : values()) {
            if (p.cliName.equals(name == null ? null : name.toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown precision '" + name + "' (expected float32 or float64)");
    }

    @Override
    public String toString() {
        return cliName;
    }
}
