package org.rnn4j.nn;

import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.net.ParamTensor;

/** Argument checks and small helpers the layers share. */
final class Checks {

    private Checks() {
    }

    static <T> T notNull(T value, String name) {
        if (value == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        return value;
    }

    static int atLeastOne(int value, String name) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, got " + value);
        }
        return value;
    }

    /** The view of tensor {@code name} (its gradient when {@code grad}), after checking its shape. */
    static Buffer view(ParameterArena arena, String name, int rows, int cols, boolean grad) {
        ParamTensor t = arena.tensor(name);
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException("arena tensor " + name + " is (" + t.rows() + ", " + t.cols()
                    + "), this layer needs (" + rows + ", " + cols + ")");
        }
        return grad ? arena.grad(name) : arena.param(name);
    }

    /** A buffer of {@code backend} holding exactly {@code length} values. */
    static void buffer(Backend backend, Buffer b, String name, long length, String shape) {
        notNull(b, name);
        if (b.owner() != backend) {
            throw new IllegalArgumentException(name + " belongs to another backend");
        }
        if (b.length() != length) {
            throw new IllegalArgumentException(name + " must hold " + length + " values"
                    + (shape.isEmpty() ? "" : " " + shape) + ", holds " + b.length());
        }
    }

    /** The number of rows of {@code b}, a whole number of rows of {@code cols} values, at least one. */
    static int rows(Backend backend, Buffer b, String name, int cols) {
        notNull(b, name);
        if (b.owner() != backend) {
            throw new IllegalArgumentException(name + " belongs to another backend");
        }
        if (b.length() == 0 || b.length() % cols != 0) {
            throw new IllegalArgumentException(name + " must hold a whole number of rows of " + cols
                    + " values, holds " + b.length());
        }
        return b.length() / cols;
    }

    static void upload(Backend backend, double[] values, Buffer dst, String name) {
        notNull(values, name);
        if (values.length != dst.length()) {
            throw new IllegalArgumentException(name + " must hold " + dst.length() + " values, holds "
                    + values.length);
        }
        backend.upload(values, dst);
    }

    static void upload(Backend backend, float[] values, Buffer dst, String name) {
        notNull(values, name);
        if (values.length != dst.length()) {
            throw new IllegalArgumentException(name + " must hold " + dst.length() + " values, holds "
                    + values.length);
        }
        backend.uploadFloats(values, 0, dst);
    }

    static void uploadIndices(Backend backend, int[] values, Buffer dst, String name) {
        notNull(values, name);
        if (values.length != dst.length()) {
            throw new IllegalArgumentException(name + " must hold " + dst.length() + " values, holds "
                    + values.length);
        }
        try {
            backend.uploadIndices(values, 0, dst);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace("src[", name + "["), e);
        }
    }
}
