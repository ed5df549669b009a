package org.rnn4j.net;

import java.util.ArrayList;
import java.util.List;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * A network's parameters and their gradients in one backend allocation, {@code [params | grads]}, both halves with the
 * same layout and handed out as views; so an SGD step is one operation, a checkpoint or gradient check sees one flat
 * array, and on a GPU the whole state is one device allocation.
 */
final class ParameterArena implements AutoCloseable {

    private final Backend backend;
    private final List<ParamTensor> tensors;
    private final Buffer arena;  // (2 * size): parameters, then gradients
    private final Buffer params; // view: the first half
    private final Buffer grads;  // view: the second half

    /** The order and shapes of the tensors, laid out one after another. */
    static final class Layout {
        private final List<ParamTensor> tensors = new ArrayList<>();
        private int size;

        Layout add(String name, int rows, int cols) {
            long next = size + (long) rows * cols;
            if (next > Integer.MAX_VALUE / 2) {
                throw new IllegalArgumentException("the network has more than " + (Integer.MAX_VALUE / 2)
                        + " parameters (" + name + " alone " + (long) rows * cols + "); with their gradients they "
                        + "must fit one buffer of at most " + Integer.MAX_VALUE + " elements");
            }
            tensors.add(new ParamTensor(name, size, rows, cols));
            size = (int) next;
            return this;
        }
    }

    ParameterArena(Backend backend, Layout layout) {
        this.backend = backend;
        this.tensors = List.copyOf(layout.tensors);
        if (layout.size > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("the network has " + layout.size
                    + " parameters; with their gradients they must fit one buffer of at most " + Integer.MAX_VALUE);
        }
        this.arena = backend.allocate(2 * layout.size);
        this.params = arena.slice(0, layout.size);
        this.grads = arena.slice(layout.size, layout.size);
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
        arena.close();
    }
}
