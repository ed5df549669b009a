package org.rnn4j.io;

/**
 * The element types of the safetensors format that this project reads and writes, under the format's names.
 *
 * <p>The constants are declared in the reference implementation's order (increasing alignment), which
 * {@link Safetensors} uses to lay tensors out as the reference writer does: larger alignment first. Data is always
 * little-endian. The format's sub-byte and 8-bit exponent-only types (such as {@code F4} or {@code F8_E8M0}) are not
 * supported: a file using them is refused as having an unknown dtype.
 */
public enum DType {
    /** Boolean, one byte. */
    BOOL(1),
    /** Unsigned 8-bit integer. */
    U8(1),
    /** Signed 8-bit integer. */
    I8(1),
    /** 8-bit float, 5 exponent and 2 mantissa bits. */
    F8_E5M2(1),
    /** 8-bit float, 4 exponent and 3 mantissa bits. */
    F8_E4M3(1),
    /** Signed 16-bit integer. */
    I16(2),
    /** Unsigned 16-bit integer. */
    U16(2),
    /** IEEE half precision. */
    F16(2),
    /** bfloat16. */
    BF16(2),
    /** Signed 32-bit integer. */
    I32(4),
    /** Unsigned 32-bit integer. */
    U32(4),
    /** IEEE single precision. */
    F32(4),
    /** IEEE double precision. */
    F64(8),
    /** Signed 64-bit integer. */
    I64(8),
    /** Unsigned 64-bit integer. */
    U64(8);

    private final int size;

    DType(int size) {
        this.size = size;
    }

    /**
     * The size of one element.
     *
     * @return bytes per element
     */
    public int size() {
        return size;
    }

    /**
     * The constant for a name as the format spells it.
     *
     * @param name such as {@code "F32"}
     * @return the type, or null when the name is not one of these
     */
    public static DType forName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
