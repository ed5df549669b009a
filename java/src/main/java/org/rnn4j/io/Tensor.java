package org.rnn4j.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor as the safetensors format stores it: an element type, a shape (row-major, outermost first) and the
 * elements as little-endian bytes. Immutable: the factories copy their arguments and the accessors return copies.
 *
 * <pre>{@code
 * Tensor w = Tensor.ofFloats(weights, rows, cols);  // F32, shape [rows, cols]
 * Tensor step = Tensor.ofLongs(new long[] {42});    // I64, shape [] (a scalar)
 * float[] back = w.toFloats();
 * }</pre>
 *
 * <p>A shape with no dimensions is a scalar (one element); a dimension of 0 makes an empty tensor. A tensor holds at
 * most {@link #MAX_BYTES} bytes (a Java array).
 */
public final class Tensor {

    /** The most bytes one tensor can hold here. */
    public static final int MAX_BYTES = Integer.MAX_VALUE - 8;

    private final DType dtype;
    private final long[] shape;
    private final byte[] data;

    private Tensor(DType dtype, long[] shape, byte[] data) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
    }

    /**
     * An F32 tensor.
     *
     * @param values the elements, row-major
     * @param shape the dimensions; their product must be {@code values.length} (none: a scalar)
     * @return the tensor
     * @throws IllegalArgumentException when the shape does not fit the values
     */
    public static Tensor ofFloats(float[] values, long... shape) {
        long[] s = checkShape(shape, values.length, DType.F32);
        ByteBuffer b = buffer(values.length, DType.F32);
        b.asFloatBuffer().put(values);
        return new Tensor(DType.F32, s, b.array());
    }

    /**
     * An F64 tensor.
     *
     * @param values the elements, row-major
     * @param shape the dimensions; their product must be {@code values.length} (none: a scalar)
     * @return the tensor
     * @throws IllegalArgumentException when the shape does not fit the values
     */
    public static Tensor ofDoubles(double[] values, long... shape) {
        long[] s = checkShape(shape, values.length, DType.F64);
        ByteBuffer b = buffer(values.length, DType.F64);
        b.asDoubleBuffer().put(values);
        return new Tensor(DType.F64, s, b.array());
    }

    /**
     * An I32 tensor.
     *
     * @param values the elements, row-major
     * @param shape the dimensions; their product must be {@code values.length} (none: a scalar)
     * @return the tensor
     * @throws IllegalArgumentException when the shape does not fit the values
     */
    public static Tensor ofInts(int[] values, long... shape) {
        long[] s = checkShape(shape, values.length, DType.I32);
        ByteBuffer b = buffer(values.length, DType.I32);
        b.asIntBuffer().put(values);
        return new Tensor(DType.I32, s, b.array());
    }

    /**
     * An I64 tensor.
     *
     * @param values the elements, row-major
     * @param shape the dimensions; their product must be {@code values.length} (none: a scalar)
     * @return the tensor
     * @throws IllegalArgumentException when the shape does not fit the values
     */
    public static Tensor ofLongs(long[] values, long... shape) {
        long[] s = checkShape(shape, values.length, DType.I64);
        ByteBuffer b = buffer(values.length, DType.I64);
        b.asLongBuffer().put(values);
        return new Tensor(DType.I64, s, b.array());
    }

    /**
     * A tensor of any type from its little-endian bytes.
     *
     * @param dtype the element type
     * @param littleEndian the elements' bytes; its length must be the element count times {@code dtype.size()}
     * @param shape the dimensions (none: a scalar)
     * @return the tensor
     * @throws IllegalArgumentException when the shape does not fit the bytes
     */
    public static Tensor ofBytes(DType dtype, byte[] littleEndian, long... shape) {
        Objects.requireNonNull(dtype, "dtype");
        if (littleEndian.length % dtype.size() != 0) {
            throw new IllegalArgumentException("littleEndian: " + littleEndian.length + " bytes is not a whole number "
                    + "of " + dtype + " elements");
        }
        long[] s = checkShape(shape, littleEndian.length / dtype.size(), dtype);
        return new Tensor(dtype, s, littleEndian.clone());
    }

    /** For the reader: the bytes were checked against the shape and are not shared. */
    static Tensor wrap(DType dtype, long[] shape, byte[] data) {
        return new Tensor(dtype, shape, data);
    }

    /**
     * The element type.
     *
     * @return the dtype
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * The dimensions, outermost first.
     *
     * @return a copy of the shape (empty for a scalar)
     */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * The number of elements: the product of the shape.
     *
     * @return the element count
     */
    public int elementCount() {
        return data.length / dtype.size();
    }

    /**
     * The size of the data.
     *
     * @return bytes
     */
    public int byteCount() {
        return data.length;
    }

    /**
     * The elements of an F32 tensor.
     *
     * @return a new array
     * @throws IllegalStateException when the tensor is not F32
     */
    public float[] toFloats() {
        float[] out = new float[elementCount()];
        view(DType.F32).asFloatBuffer().get(out);
        return out;
    }

    /**
     * The elements of an F64 tensor.
     *
     * @return a new array
     * @throws IllegalStateException when the tensor is not F64
     */
    public double[] toDoubles() {
        double[] out = new double[elementCount()];
        view(DType.F64).asDoubleBuffer().get(out);
        return out;
    }

    /**
     * The elements of an I32 tensor.
     *
     * @return a new array
     * @throws IllegalStateException when the tensor is not I32
     */
    public int[] toInts() {
        int[] out = new int[elementCount()];
        view(DType.I32).asIntBuffer().get(out);
        return out;
    }

    /**
     * The elements of an I64 tensor.
     *
     * @return a new array
     * @throws IllegalStateException when the tensor is not I64
     */
    public long[] toLongs() {
        long[] out = new long[elementCount()];
        view(DType.I64).asLongBuffer().get(out);
        return out;
    }

    /**
     * The elements as stored.
     *
     * @return a copy of the little-endian bytes
     */
    public byte[] toBytes() {
        return data.clone();
    }

    /** Writes the bytes without a copy. */
    void writeTo(java.io.OutputStream out) throws java.io.IOException {
        out.write(data);
    }

    /**
     * Two tensors are equal when their types, shapes and bytes are (so a NaN equals the same NaN).
     *
     * @param o another object
     * @return whether it is an equal tensor
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && t.dtype == dtype && Arrays.equals(t.shape, shape)
                && Arrays.equals(t.data, data);
    }

    /** @return a hash of type, shape and bytes */
    @Override
    public int hashCode() {
        return (dtype.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + Arrays.hashCode(data);
    }

    /** @return the type and shape, such as {@code F32[3, 4]} */
    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }

    private ByteBuffer view(DType wanted) {
        if (dtype != wanted) {
            throw new IllegalStateException("this tensor is " + dtype + ", not " + wanted);
        }
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer buffer(int elements, DType dtype) {
        return ByteBuffer.allocate(elements * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long[] checkShape(long[] shape, int elements, DType dtype) {
        Objects.requireNonNull(shape, "shape");
        long product = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape: negative dimension in " + Arrays.toString(shape));
            }
            product = d == 0 || product == 0 ? 0 : (product > Long.MAX_VALUE / d ? -1 : product * d);
            if (product < 0) {
                throw new IllegalArgumentException("shape: the product of " + Arrays.toString(shape)
                        + " overflows");
            }
        }
        if (product != elements) {
            throw new IllegalArgumentException("shape: " + Arrays.toString(shape) + " holds " + product
                    + " elements, but there are " + elements);
        }
        if ((long) elements * dtype.size() > MAX_BYTES) {
            throw new IllegalArgumentException("a tensor of " + elements + " " + dtype + " elements is larger than "
                    + MAX_BYTES + " bytes");
        }
        return shape.clone();
    }
}
