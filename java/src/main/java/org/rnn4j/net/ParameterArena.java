package org.rnn4j.net;

import java.util.ArrayList;
import java.util.List;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * A network's parameters and their gradients, each in one backend allocation with the same layout, handed out as
 * views; so an SGD step is one operation and a checkpoint or gradient check sees one flat array.
 */
final class ParameterArena implements AutoCloseable {

    private final Backend backend;
    private final List<ParamTensor> tensors;
    private final Buffer params;
    private final Buffer grads;

    /** The order and shapes of the tensors, laid out one after another. */
    static final class Layout {
        private final List<ParamTensor> tensors = new ArrayList<>();
        private int size;

        Layout add(String name, int rows, int cols) {
            tensors.add(new ParamTensor(name, size, rows, cols));
            size = Math.addExact(size, Math.multiplyExact(rows, cols));
            return this;
        }
    }

    ParameterArena(Backend backend, Layout layout) {
        this.backend = backend;
        this.tensors = List.copyOf(layout.tensors);
        this.params = backend.allocate(layout.size);
        try {
            this.grads = backend.allocate(layout.size);
        } catch (RuntimeException e) {
            params.close();
            throw e;
        }
    }

    List<ParamTensor> tensors() {
        return tensors;
    }

    int size() {
        return params.length();
    }

    double[] downloadParams() {
        return backend.download(params);
    }

    void uploadParams(double[] values) {
        if (values.length != params.length()) {
            throw new IllegalArgumentException("values must hold " + params.length() + " parameters, holds "
                    + values.length);
        }
        backend.upload(values, params);
    }

    double[] downloadGrads() {
        return backend.download(grads);
    }

    /** Plain SGD over every tensor at once: {@code params -= learningRate * grads}. */
    void sgdStep(double learningRate) {
        backend.sgdUpdate(params, grads, learningRate);
    }

    Buffer param(int index) {
        ParamTensor t = tensors.get(index);
        return params.slice(t.offset(), t.size());
    }

    Buffer grad(int index) {
        ParamTensor t = tensors.get(index);
        return grads.slice(t.offset(), t.size());
    }

    @Override
    public void close() {
        params.close();
        grads.close();
    }
}
