package org.rnn4j.charlm;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.rnn4j.backend.Precision;
import org.rnn4j.io.AtomicFile;
import org.rnn4j.io.CheckpointFormatException;
import org.rnn4j.io.DType;
import org.rnn4j.io.JsonValue;
import org.rnn4j.io.Safetensors;
import org.rnn4j.io.Tensor;
import org.rnn4j.text.Vocabulary;

/**
 * A character model's checkpoint: everything a run needs to continue exactly where it stopped, in a safetensors file
 * that PyTorch (with numpy) reads as it is.
 *
 * <h2>Tensors</h2>
 * In the run's dtype ({@code F32} or {@code F64}), row-major:
 * <ul>
 *   <li>the model under PyTorch's {@code state_dict} names: {@code embedding.weight (V, E)};
 *       for each layer {@code k}: {@code lstm.weight_ih_lk (4H, E or H)}, {@code lstm.weight_hh_lk (4H, H)},
 *       {@code lstm.bias_ih_lk (4H)}, {@code lstm.bias_hh_lk (4H)}; {@code head.weight (V, H)}, {@code head.bias (V)};
 *   <li>for Adam, its moments: {@code optimizer.exp_avg.NAME} and {@code optimizer.exp_avg_sq.NAME}, each shaped as
 *       the parameter {@code NAME} (plain SGD keeps none);
 *   <li>the LSTM state the last update ended with, {@code state.h} and {@code state.c}, each {@code (layers, B, H)}
 *       (zero before the first update); the next update starts from it unless it begins a pass over the data.
 * </ul>
 *
 * <h2>Metadata</h2>
 * Strings, JSON where structured: {@code format} ({@value #FORMAT}), {@code format_version} ({@value #VERSION}),
 * {@code vocabulary} (the code points, increasing: {@link Vocabulary#toJson()}), {@code settings}
 * ({@link CharLmSettings#toJson()}), {@code text_sha256} (of the training text's bytes), {@code step} (updates done),
 * {@code optimizer_steps} (Adam's step count; the updates done for SGD) and {@code generator}
 * ({@code {"dropout_seed": S, "dropout_offset": O}}: the Philox key and counter of the dropout draws; the initial values
 * come from the settings' seed). Nothing depends on when or where the run was made, so the same run always writes the
 * same bytes.
 *
 * <h2>Reading</h2>
 * {@link #read} takes any file: besides the format's own rules ({@link Safetensors#read}), it refuses a file whose
 * metadata is missing, of another format or version, or not valid (the vocabulary, the settings, the hash, the step
 * counts, the generator), whose tensors are missing, unexpected, of another dtype or shaped other than the settings
 * say, or hold a value that is not finite (or a negative second moment); always with a
 * {@link CheckpointFormatException} of one line naming the file and the problem.
 */
public final class CharLmCheckpoint {

    /** The {@code format} metadata value. */
    public static final String FORMAT = "rnn4j-charlm";
    /** The {@code format_version} this version writes and reads. */
    public static final int VERSION = 1;

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern COUNT = Pattern.compile("0|[1-9][0-9]{0,17}");
    private static final List<String> METADATA_KEYS = List.of("format", "format_version", "generator",
            "optimizer_steps", "settings", "step", "text_sha256", "vocabulary");

    /** A tensor's name and PyTorch shape. */
    public record Spec(String name, long[] shape) {
        /** @return the element count */
        public int size() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return Math.toIntExact(n);
        }
    }

    private final CharLmSettings settings;
    private final Vocabulary vocabulary;
    private final String textSha256;
    private final long step;
    private final long optimizerSteps;
    private final long dropoutSeed;
    private final long dropoutOffset;
    private final Map<String, double[]> model;
    private final Map<String, double[]> expAvg;
    private final Map<String, double[]> expAvgSq;
    private final double[] stateH;
    private final double[] stateC;

    /**
     * @param settings       the run's settings
     * @param vocabulary     the text's vocabulary
     * @param textSha256     64 lowercase hexadecimal digits
     * @param step           updates done, at least 0
     * @param optimizerSteps Adam's step count (SGD: the updates done), from 0 to {@code step}
     * @param dropoutSeed    the dropout draws' Philox key
     * @param dropoutOffset  the dropout draws' counter, at least 0
     * @param model          every model tensor by name ({@link #modelSpecs}), row-major
     * @param expAvg         Adam's first moments by parameter name; empty for SGD
     * @param expAvgSq       Adam's second moments by parameter name; empty for SGD
     * @param stateH         {@code h (layers, B, H)}
     * @param stateC         {@code c (layers, B, H)}
     * @throws IllegalArgumentException naming what does not fit the settings
     */
    public CharLmCheckpoint(CharLmSettings settings, Vocabulary vocabulary, String textSha256, long step,
                            long optimizerSteps, long dropoutSeed, long dropoutOffset, Map<String, double[]> model,
                            Map<String, double[]> expAvg, Map<String, double[]> expAvgSq, double[] stateH,
                            double[] stateC) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
        this.textSha256 = Objects.requireNonNull(textSha256, "textSha256");
        if (!SHA256.matcher(textSha256).matches()) {
            throw new IllegalArgumentException("textSha256 must be 64 lowercase hexadecimal digits");
        }
        if (step < 0 || optimizerSteps < 0 || optimizerSteps > step || dropoutOffset < 0) {
            throw new IllegalArgumentException("step, optimizerSteps and dropoutOffset must be counts, "
                    + "optimizerSteps at most step; got " + step + ", " + optimizerSteps + ", " + dropoutOffset);
        }
        this.step = step;
        this.optimizerSteps = optimizerSteps;
        this.dropoutSeed = dropoutSeed;
        this.dropoutOffset = dropoutOffset;
        List<Spec> specs = modelSpecs(settings, vocabulary.size());
        this.model = copy(model, specs, "model");
        this.expAvg = settings.adam() ? copy(expAvg, specs, "expAvg") : empty(expAvg, "expAvg");
        this.expAvgSq = settings.adam() ? copy(expAvgSq, specs, "expAvgSq") : empty(expAvgSq, "expAvgSq");
        int lbh = stateSize(settings);
        if (stateH == null || stateC == null || stateH.length != lbh || stateC.length != lbh) {
            throw new IllegalArgumentException("stateH and stateC must hold layers * batch * hidden = " + lbh
                    + " values each");
        }
        this.stateH = stateH.clone();
        this.stateC = stateC.clone();
    }

    private static Map<String, double[]> copy(Map<String, double[]> values, List<Spec> specs, String what) {
        Objects.requireNonNull(values, what);
        if (values.size() != specs.size()) {
            throw new IllegalArgumentException(what + " must hold exactly the model's " + specs.size() + " tensors, "
                    + "holds " + values.size());
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Spec s : specs) {
            double[] v = values.get(s.name());
            if (v == null || v.length != s.size()) {
                throw new IllegalArgumentException(what + ": " + s.name() + " must hold " + s.size() + " values");
            }
            out.put(s.name(), v.clone());
        }
        return Collections.unmodifiableMap(out);
    }

    private static Map<String, double[]> empty(Map<String, double[]> values, String what) {
        if (values != null && !values.isEmpty()) {
            throw new IllegalArgumentException(what + " must be empty for plain SGD");
        }
        return Map.of();
    }

    /**
     * The model's tensors for these settings and vocabulary size, in PyTorch's {@code state_dict} order, with
     * PyTorch's shapes (a bias is one-dimensional).
     *
     * @param settings  the settings
     * @param vocabSize {@code V}
     * @return the names and shapes
     */
    public static List<Spec> modelSpecs(CharLmSettings settings, int vocabSize) {
        long v = vocabSize;
        long e = settings.embedding();
        long h = settings.hidden();
        List<Spec> out = new ArrayList<>();
        out.add(new Spec("embedding.weight", new long[] {v, e}));
        for (int k = 0; k < settings.layers(); k++) {
            out.add(new Spec("lstm.weight_ih_l" + k, new long[] {4 * h, k == 0 ? e : h}));
            out.add(new Spec("lstm.weight_hh_l" + k, new long[] {4 * h, h}));
            out.add(new Spec("lstm.bias_ih_l" + k, new long[] {4 * h}));
            out.add(new Spec("lstm.bias_hh_l" + k, new long[] {4 * h}));
        }
        out.add(new Spec("head.weight", new long[] {v, h}));
        out.add(new Spec("head.bias", new long[] {v}));
        return out;
    }

    private static int stateSize(CharLmSettings s) {
        long n = (long) s.layers() * s.batch() * s.hidden();
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("layers * batch * hidden = " + n + " is too large for one buffer");
        }
        return (int) n;
    }

    /** @return the run's settings */
    public CharLmSettings settings() {
        return settings;
    }

    /** @return the text's vocabulary */
    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /** @return the SHA-256 of the training text's bytes, in hexadecimal */
    public String textSha256() {
        return textSha256;
    }

    /** @return the updates done */
    public long step() {
        return step;
    }

    /** @return Adam's step count (SGD: the updates done) */
    public long optimizerSteps() {
        return optimizerSteps;
    }

    /** @return the dropout draws' Philox key */
    public long dropoutSeed() {
        return dropoutSeed;
    }

    /** @return the dropout draws' counter */
    public long dropoutOffset() {
        return dropoutOffset;
    }

    /** @return the model's tensors by name, as {@link org.rnn4j.nn.Sequential#loadStateDict} takes them */
    public Map<String, double[]> model() {
        return copyOut(model);
    }

    /** @return Adam's first moments by parameter name (empty for SGD) */
    public Map<String, double[]> expAvg() {
        return copyOut(expAvg);
    }

    /** @return Adam's second moments by parameter name (empty for SGD) */
    public Map<String, double[]> expAvgSq() {
        return copyOut(expAvgSq);
    }

    /** @return {@code h (layers, B, H)} */
    public double[] stateH() {
        return stateH.clone();
    }

    /** @return {@code c (layers, B, H)} */
    public double[] stateC() {
        return stateC.clone();
    }

    private static Map<String, double[]> copyOut(Map<String, double[]> m) {
        Map<String, double[]> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ writing

    /**
     * The file's content.
     *
     * @return tensors and metadata as described in the class comment
     */
    public Safetensors toSafetensors() {
        boolean f32 = settings.precision() == Precision.FLOAT32;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Spec s : modelSpecs(settings, vocabulary.size())) {
            tensors.put(s.name(), tensor(model.get(s.name()), s.shape(), f32));
            if (settings.adam()) {
                tensors.put("optimizer.exp_avg." + s.name(), tensor(expAvg.get(s.name()), s.shape(), f32));
                tensors.put("optimizer.exp_avg_sq." + s.name(), tensor(expAvgSq.get(s.name()), s.shape(), f32));
            }
        }
        long[] stateShape = {settings.layers(), settings.batch(), settings.hidden()};
        tensors.put("state.h", tensor(stateH, stateShape, f32));
        tensors.put("state.c", tensor(stateC, stateShape, f32));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", Integer.toString(VERSION));
        meta.put("vocabulary", vocabulary.toJson());
        meta.put("settings", settings.toJson());
        meta.put("text_sha256", textSha256);
        meta.put("step", Long.toString(step));
        meta.put("optimizer_steps", Long.toString(optimizerSteps));
        meta.put("generator", "{\"dropout_seed\":" + dropoutSeed + ",\"dropout_offset\":" + dropoutOffset + "}");
        return new Safetensors(tensors, meta);
    }

    private static Tensor tensor(double[] values, long[] shape, boolean f32) {
        if (!f32) {
            return Tensor.ofDoubles(values, shape);
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return Tensor.ofFloats(f, shape);
    }

    /**
     * Saves through {@link AtomicFile}: the target holds either its previous content or this checkpoint, whole.
     *
     * @param target the file
     * @param option what named it, for messages ({@code "--checkpoint"})
     * @throws AtomicFile.UnwritableException when the target cannot be written (nothing was done)
     * @throws IOException when writing or committing fails (the target keeps its previous content)
     */
    public void save(Path target, String option) throws AtomicFile.UnwritableException, IOException {
        toSafetensors().save(target, option);
    }

    // ------------------------------------------------------------------------------------------------ reading

    /**
     * Reads and checks a checkpoint file.
     *
     * @param file the file
     * @return the checkpoint
     * @throws CheckpointFormatException when the file is not a valid checkpoint: one line naming the file and the
     *         problem
     * @throws IOException when it cannot be read at all (missing, a directory, permission denied), naming the file
     */
    public static CharLmCheckpoint read(Path file) throws CheckpointFormatException, IOException {
        return of(Safetensors.read(file), file.toString());
    }

    /**
     * Checks a parsed safetensors file as a checkpoint.
     *
     * @param st   the file's tensors and metadata
     * @param file the file's name, for messages
     * @return the checkpoint
     * @throws CheckpointFormatException naming the file and the problem
     */
    public static CharLmCheckpoint of(Safetensors st, String file) throws CheckpointFormatException {
        Map<String, String> meta = st.metadata();
        String format = meta.get("format");
        if (format == null) {
            throw new CheckpointFormatException(file, "not an rnn4j character-model checkpoint: its metadata has no "
                    + "'format'");
        }
        if (!format.equals(FORMAT)) {
            throw new CheckpointFormatException(file, "not an rnn4j character-model checkpoint: its format is '"
                    + shorten(format) + "', not '" + FORMAT + "'");
        }
        String version = required(meta, "format_version", file);
        if (!version.equals(Integer.toString(VERSION))) {
            throw new CheckpointFormatException(file, "format version '" + shorten(version) + "' is not one this "
                    + "rnn4j reads (it reads " + VERSION + ")");
        }
        for (String key : meta.keySet()) {
            if (!METADATA_KEYS.contains(key)) {
                throw new CheckpointFormatException(file, "unknown metadata key '" + shorten(key) + "'");
            }
        }
        Vocabulary vocabulary;
        try {
            vocabulary = Vocabulary.fromJson(required(meta, "vocabulary", file));
        } catch (CheckpointFormatException e) {
            throw e.inFile(file, "metadata 'vocabulary'");
        }
        CharLmSettings settings;
        try {
            settings = CharLmSettings.fromJson(required(meta, "settings", file));
        } catch (CheckpointFormatException e) {
            throw e.inFile(file, "metadata 'settings'");
        }
        String sha = required(meta, "text_sha256", file);
        if (!SHA256.matcher(sha).matches()) {
            throw new CheckpointFormatException(file, "metadata 'text_sha256' is not 64 lowercase hexadecimal "
                    + "digits");
        }
        long step = count(meta, "step", file);
        long optimizerSteps = count(meta, "optimizer_steps", file);
        if (optimizerSteps > step) {
            throw new CheckpointFormatException(file, "metadata 'optimizer_steps' (" + optimizerSteps + ") is above "
                    + "'step' (" + step + ")");
        }
        long[] generator = generator(required(meta, "generator", file), file);

        DType dtype = settings.precision() == Precision.FLOAT32 ? DType.F32 : DType.F64;
        List<Spec> specs = modelSpecs(settings, vocabulary.size());
        Set<String> expected = new HashSet<>();
        Map<String, double[]> model = new LinkedHashMap<>();
        Map<String, double[]> m1 = new LinkedHashMap<>();
        Map<String, double[]> m2 = new LinkedHashMap<>();
        for (Spec s : specs) {
            model.put(s.name(), values(st, s.name(), s.shape(), dtype, file, expected, false));
            if (settings.adam()) {
                String a = "optimizer.exp_avg." + s.name();
                String b = "optimizer.exp_avg_sq." + s.name();
                m1.put(s.name(), values(st, a, s.shape(), dtype, file, expected, false));
                m2.put(s.name(), values(st, b, s.shape(), dtype, file, expected, true));
            }
        }
        long[] stateShape = {settings.layers(), settings.batch(), settings.hidden()};
        double[] h = values(st, "state.h", stateShape, dtype, file, expected, false);
        double[] c = values(st, "state.c", stateShape, dtype, file, expected, false);
        for (String name : st.tensors().keySet()) {
            if (!expected.contains(name)) {
                throw new CheckpointFormatException(file, "unexpected tensor '" + shorten(name) + "' (the settings "
                        + "ask for " + expected.size() + " tensors" + (settings.adam() ? "" : "; plain SGD keeps no "
                        + "optimizer state") + ")");
            }
        }
        return new CharLmCheckpoint(settings, vocabulary, sha, step, optimizerSteps, generator[0], generator[1],
                model, m1, m2, h, c);
    }

    private static double[] values(Safetensors st, String name, long[] shape, DType dtype, String file,
                                   Set<String> expected, boolean nonNegative) throws CheckpointFormatException {
        expected.add(name);
        Tensor t = st.tensor(name);
        if (t == null) {
            throw new CheckpointFormatException(file, "missing tensor '" + name + "'");
        }
        if (t.dtype() != dtype) {
            throw new CheckpointFormatException(file, "tensor '" + name + "' is " + t.dtype() + ", but the settings' "
                    + "precision asks for " + dtype);
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new CheckpointFormatException(file, "tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + ", but the settings and vocabulary ask for " + Arrays.toString(shape));
        }
        double[] v;
        if (dtype == DType.F32) {
            float[] f = t.toFloats();
            v = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                v[i] = f[i];
            }
        } else {
            v = t.toDoubles();
        }
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i]) || (nonNegative && v[i] < 0)) {
                throw new CheckpointFormatException(file, "tensor '" + name + "' holds " + v[i] + " at element " + i
                        + (nonNegative ? " (a second moment must be finite and not negative)" : " (not finite)"));
            }
        }
        return v;
    }

    private static String required(Map<String, String> meta, String key, String file)
            throws CheckpointFormatException {
        String v = meta.get(key);
        if (v == null) {
            throw new CheckpointFormatException(file, "metadata lacks '" + key + "'");
        }
        return v;
    }

    private static long count(Map<String, String> meta, String key, String file) throws CheckpointFormatException {
        String v = required(meta, key, file);
        if (!COUNT.matcher(v).matches()) {
            throw new CheckpointFormatException(file, "metadata '" + key + "' is '" + shorten(v) + "', not a count "
                    + "(a non-negative integer)");
        }
        return Long.parseLong(v);
    }

    private static long[] generator(String json, String file) throws CheckpointFormatException {
        JsonValue root;
        try {
            root = JsonValue.parse(json);
        } catch (JsonProcessingException e) {
            throw new CheckpointFormatException(file, "metadata 'generator' is not valid JSON");
        }
        if (root == null || !root.isObject() || root.size() != 2) {
            throw new CheckpointFormatException(file, "metadata 'generator' is not an object with exactly "
                    + "dropout_seed and dropout_offset");
        }
        JsonValue seed = root.get("dropout_seed");
        JsonValue offset = root.get("dropout_offset");
        if (seed == null || offset == null || !seed.isIntegralNumber() || !seed.canConvertToLong()
                || !offset.isIntegralNumber() || !offset.canConvertToLong() || offset.longValue() < 0) {
            throw new CheckpointFormatException(file, "metadata 'generator' must hold the integers dropout_seed "
                    + "(64 bits) and dropout_offset (at least 0)");
        }
        return new long[] {seed.longValue(), offset.longValue()};
    }

    private static String shorten(String s) {
        String one = s.replaceAll("[\\p{Cntrl}]", "?");
        return one.length() <= 60 ? one : one.substring(0, 57) + "...";
    }
}
