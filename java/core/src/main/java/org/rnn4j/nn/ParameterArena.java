package org.rnn4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.net.ParamTensor;

/**
 * The parameters of one or several layers and their gradients in one backend allocation, {@code [params | grads]}, both
 * halves with the same layout, each tensor handed out as a view by its name. One arena per model means an optimizer
 * step or a gradient norm is one operation over {@link #params()} and {@link #grads()}, a checkpoint sees one flat
 * array, and on a GPU the whole state is one device allocation.
 *
 * <p>Layers describe their tensors into a {@link Layout} before anything is allocated (for example
 * {@link Lstm#addParameters}), under a prefix of the caller's choosing, so a container can place several layers in one
 * arena; a layer then takes its views from the arena ({@link Lstm#Lstm(ParameterArena, String, int, int, int, double)}).
 * Both halves start at zero.
 *
 * <p>Not thread-safe, like the {@link Backend} it allocates from.
 */
public final class ParameterArena implements AutoCloseable {

    private final Backend backend;
    private final List<ParamTensor> tensors;
    private final Map<String, ParamTensor> byName;
    private final Buffer arena;  // (2 * size): parameters, then gradients
    private final Buffer params; // view: the first half
    private final Buffer grads;  // view: the second half

    /** The names, order and shapes of the tensors of an arena, laid out one after another. */
    public static final class Layout {
        private final List<ParamTensor> tensors = new ArrayList<>();
        private final Map<String, ParamTensor> byName = new LinkedHashMap<>();
        private int size;

        /** An empty layout. */
        public Layout() {
        }

        /**
         * Appends a row-major {@code (rows, cols)} tensor; a vector is {@code (1, n)}.
         *
         * @param name its name, unique in the layout
         * @param rows rows, at least 1
         * @param cols columns, at least 1
         * @return this layout
         * @throws IllegalArgumentException when the name is empty or taken, a dimension is below 1, or the layout
         *                                  would exceed what one buffer holds
         */
        public Layout add(String name, int rows, int cols) {
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("name must not be empty");
            }
            if (byName.containsKey(name)) {
                throw new IllegalArgumentException("a tensor named '" + name + "' is already in the layout");
            }
            if (rows < 1 || cols < 1) {
                throw new IllegalArgumentException(name + ": rows and cols must be at least 1, got (" + rows + ", "
                        + cols + ")");
            }
            long newSize = (long) size + (long) rows * cols;
            if (newSize > Integer.MAX_VALUE / 2) {
                throw new IllegalArgumentException("with " + name + " the layout holds " + newSize
                        + " parameters; with their gradients they must fit one buffer of at most "
                        + Integer.MAX_VALUE);
            }
            ParamTensor t = new ParamTensor(name, size, rows, cols);
            tensors.add(t);
            byName.put(name, t);
            size = (int) newSize;
            return this;
        }

        /** @return the tensors added so far, in order */
        public List<ParamTensor> tensors() {
            return Collections.unmodifiableList(tensors);
        }

        /** @return the number of parameters added so far */
        public int size() {
            return size;
        }
    }

    /**
     * Allocates the arena for {@code layout} (its tensors as they are now) on {@code backend}, zero-filled.
     *
     * @param backend where to allocate
     * @param layout  the tensors
     *
     * @throws IllegalArgumentException when an argument is null or the layout is empty
     */
    public ParameterArena(Backend backend, Layout layout) {
        if (backend == null) {
            throw new IllegalArgumentException("backend must not be null");
        }
        if (layout == null) {
            throw new IllegalArgumentException("layout must not be null");
        }
        if (layout.size == 0) {
            throw new IllegalArgumentException("layout must hold at least one tensor");
        }
        this.backend = backend;
        this.tensors = List.copyOf(layout.tensors);
        this.byName = Map.copyOf(layout.byName);
        this.arena = backend.allocate(2 * layout.size);
        this.params = arena.slice(0, layout.size);
        this.grads = arena.slice(layout.size, layout.size);
    }

    /** @return the backend the arena lives on */
    public Backend backend() {
        return backend;
    }

    /** @return every tensor, in layout order; offsets index {@link #downloadParams()} */
    public List<ParamTensor> tensors() {
        return tensors;
    }

    /**
     * The tensor named {@code name}.
     *
     * @param name its name
     * @return the tensor
     * @throws IllegalArgumentException when there is none
     */
    public ParamTensor tensor(String name) {
        ParamTensor t = byName.get(name);
        if (t == null) {
            throw new IllegalArgumentException("the arena holds no tensor named '" + name + "'");
        }
        return t;
    }

    /** @return the number of parameters (the arena holds twice as many values, with the gradients) */
    public int size() {
        return params.length();
    }

    /** @return all parameters, one view, in layout order */
    public Buffer params() {
        return params;
    }

    /** @return all gradients, one view, laid out as {@link #params()} */
    public Buffer grads() {
        return grads;
    }

    /**
     * @param name a tensor's name
     * @return the view of that parameter tensor
     */
    public Buffer param(String name) {
        ParamTensor t = tensor(name);
        return params.slice(t.offset(), t.size());
    }

    /**
     * @param name a tensor's name
     * @return the view of that tensor's gradient
     */
    public Buffer grad(String name) {
        ParamTensor t = tensor(name);
        return grads.slice(t.offset(), t.size());
    }

    /** @return all parameters in layout order; waits for the device */
    public double[] downloadParams() {
        return backend.download(params);
    }

    /** @return all gradients in layout order; waits for the device */
    public double[] downloadGrads() {
        return backend.download(grads);
    }

    /**
     * Overwrites every parameter.
     *
     * @param values {@link #size()} values laid out as {@link #tensors()} says
     */
    public void uploadParams(double[] values) {
        upload(values, params, "values");
    }

    /**
     * Overwrites every gradient.
     *
     * @param values {@link #size()} values laid out as {@link #tensors()} says
     */
    public void uploadGrads(double[] values) {
        upload(values, grads, "values");
    }

    /**
     * @param name a tensor's name
     * @return that parameter tensor, row-major; waits for the device
     */
    public double[] downloadParam(String name) {
        return backend.download(param(name));
    }

    /**
     * @param name a tensor's name
     * @return that tensor's gradient, row-major; waits for the device
     */
    public double[] downloadGrad(String name) {
        return backend.download(grad(name));
    }

    /**
     * Overwrites one parameter tensor.
     *
     * @param name   a tensor's name
     * @param values its values, row-major
     */
    public void uploadParam(String name, double[] values) {
        upload(values, param(name), name);
    }

    private void upload(double[] values, Buffer dst, String what) {
        if (values == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        if (values.length != dst.length()) {
            throw new IllegalArgumentException(what + " must hold " + dst.length() + " values, holds "
                    + values.length);
        }
        backend.upload(values, dst);
    }

    /** Releases the allocation; every view becomes unusable. Idempotent. */
    @Override
    public void close() {
        arena.close();
    }
}
