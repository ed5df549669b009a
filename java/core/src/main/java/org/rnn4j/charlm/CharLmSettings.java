package org.rnn4j.charlm;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.rnn4j.backend.Precision;
import org.rnn4j.io.CheckpointFormatException;
import org.rnn4j.io.JsonValue;
import org.rnn4j.io.ShortestDouble;
import org.rnn4j.nn.Sequential;

/**
 * Everything that fixes a character model's training run apart from its text and its length: the model's shape
 * ({@code nn.Embedding(V, embedding)}, {@code nn.LSTM(embedding, hidden, num_layers=layers, dropout=dropout)},
 * {@code nn.Linear(hidden, V)}), the data's cut ({@code seqLen}, {@code batch}, {@code valFraction}), the optimizer
 * and its settings, the seed of the initial values and the precision. A checkpoint keeps them; a resumed run takes
 * them from it.
 *
 * @param layers      stacked LSTM layers, at least 1
 * @param hidden      hidden units per layer, at least 1
 * @param embedding   values per character in the embedding, at least 1
 * @param seqLen      steps per window {@code T}, at least 1
 * @param batch       parallel streams {@code B}, at least 1
 * @param optimizer   {@code adam} (PyTorch's defaults: betas (0.9, 0.999), eps 1e-8) or {@code sgd} (plain)
 * @param lr          learning rate, finite and positive
 * @param clip        the largest total gradient norm kept ({@code clip_grad_norm_}), finite, 0 for none
 * @param dropout     dropout between LSTM layers in training, in {@code [0, 1)}
 * @param valFraction the share of the text, at its end, kept for validation, in {@code [0, 1)}
 * @param seed        seed of the initial values and the dropout draws, 0 to {@value #MAX_SEED}
 * @param precision   the run's precision
 */
public record CharLmSettings(int layers, int hidden, int embedding, int seqLen, int batch, String optimizer,
                             double lr, double clip, double dropout, double valFraction, long seed,
                             Precision precision) {

    /** The largest seed, as the other commands take. */
    public static final long MAX_SEED = 4294967295L;
    /** Adam's decay rates, PyTorch's defaults. */
    public static final double BETA1 = 0.9;
    /** Adam's decay rates, PyTorch's defaults. */
    public static final double BETA2 = 0.999;
    /** Adam's epsilon, PyTorch's default. */
    public static final double EPS = 1e-8;

    private static final List<String> KEYS = List.of("layers", "hidden", "embedding", "seq_len", "batch", "optimizer",
            "lr", "clip", "dropout", "val_fraction", "seed", "precision");

    /**
     * Checks the settings.
     *
     * @param layers      stacked LSTM layers, at least 1
     * @param hidden      hidden units per layer, at least 1
     * @param embedding   values per character in the embedding, at least 1
     * @param seqLen      steps per window {@code T}, at least 1
     * @param batch       parallel streams {@code B}, at least 1
     * @param optimizer   {@code adam} or {@code sgd}
     * @param lr          learning rate, finite and positive
     * @param clip        the largest total gradient norm kept, finite, 0 for none
     * @param dropout     dropout between LSTM layers in training, in {@code [0, 1)}
     * @param valFraction the share of the text kept for validation, in {@code [0, 1)}
     * @param seed        seed of the initial values and the dropout draws, 0 to {@value #MAX_SEED}
     * @param precision   the run's precision
     * @throws IllegalArgumentException naming the first value out of range
     */
    public CharLmSettings {
        Objects.requireNonNull(optimizer, "optimizer");
        Objects.requireNonNull(precision, "precision");
        String p = problem(layers, hidden, embedding, seqLen, batch, optimizer, lr, clip, dropout, valFraction, seed);
        if (p != null) {
            throw new IllegalArgumentException(p);
        }
    }

    /**
     * What is wrong with these values, naming the setting by its JSON key (the command line's option has the same
     * name with dashes: {@code seq_len} is {@code --seq-len}).
     *
     * @return null when every value is in range
     */
    static String problem(int layers, int hidden, int embedding, int seqLen, int batch, String optimizer, double lr,
                          double clip, double dropout, double valFraction, long seed) {
        if (layers < 1) {
            return "layers must be at least 1, got " + layers;
        }
        if (hidden < 1) {
            return "hidden must be at least 1, got " + hidden;
        }
        if (embedding < 1) {
            return "embedding must be at least 1, got " + embedding;
        }
        if (seqLen < 1) {
            return "seq_len must be at least 1, got " + seqLen;
        }
        if (batch < 1) {
            return "batch must be at least 1, got " + batch;
        }
        if (!optimizer.equals("adam") && !optimizer.equals("sgd")) {
            return "optimizer must be adam or sgd, got '" + optimizer + "'";
        }
        if (!(lr > 0) || !Double.isFinite(lr)) {
            return "lr must be a positive finite number, got " + lr;
        }
        if (!(clip >= 0) || !Double.isFinite(clip)) {
            return "clip must be a finite number, at least 0 (0 turns clipping off), got " + clip;
        }
        if (!(dropout >= 0 && dropout < 1)) {
            return "dropout must be at least 0 and below 1, got " + dropout;
        }
        if (!(valFraction >= 0 && valFraction < 1)) {
            return "val_fraction must be at least 0 and below 1, got " + valFraction;
        }
        if (seed < 0 || seed > MAX_SEED) {
            return "seed must be between 0 and " + MAX_SEED + ", got " + seed;
        }
        return null;
    }

    /** @return whether the optimizer is Adam */
    public boolean adam() {
        return optimizer.equals("adam");
    }

    /**
     * The model, described for {@link Sequential.Builder#build}: {@code embedding -> lstm -> head}.
     *
     * @param vocabSize {@code V}, at least 1
     * @return the builder
     * @throws IllegalArgumentException when the sizes are too large for one buffer
     */
    public Sequential.Builder model(int vocabSize) {
        return Sequential.builder().embedding(vocabSize, embedding).lstm(hidden, layers, dropout).linear(vocabSize);
    }

    /**
     * The JSON form kept in a checkpoint's metadata: an object with the keys {@code layers, hidden, embedding,
     * seq_len, batch, optimizer, lr, clip, dropout, val_fraction, seed, precision} in that order, numbers in their
     * shortest round-trip form, and for Adam {@code betas} and {@code eps}.
     *
     * @return the JSON text
     */
    public String toJson() {
        StringBuilder b = new StringBuilder(256).append('{');
        b.append("\"layers\":").append(layers);
        b.append(",\"hidden\":").append(hidden);
        b.append(",\"embedding\":").append(embedding);
        b.append(",\"seq_len\":").append(seqLen);
        b.append(",\"batch\":").append(batch);
        b.append(",\"optimizer\":\"").append(optimizer).append('"');
        b.append(",\"lr\":").append(ShortestDouble.toString(lr));
        b.append(",\"clip\":").append(ShortestDouble.toString(clip));
        b.append(",\"dropout\":").append(ShortestDouble.toString(dropout));
        b.append(",\"val_fraction\":").append(ShortestDouble.toString(valFraction));
        b.append(",\"seed\":").append(seed);
        b.append(",\"precision\":\"").append(precision.cliName()).append('"');
        if (adam()) {
            b.append(",\"betas\":[").append(ShortestDouble.toString(BETA1)).append(',')
                    .append(ShortestDouble.toString(BETA2)).append("],\"eps\":").append(ShortestDouble.toString(EPS));
        }
        return b.append('}').toString();
    }

    /**
     * Reads {@link #toJson()}'s form, refusing anything else: not one object, a missing, unknown or repeated key, a
     * value of the wrong type or out of range, Adam settings other than PyTorch's defaults.
     *
     * @param json the text
     * @return the settings
     * @throws CheckpointFormatException (without a file) naming the problem
     */
    public static CharLmSettings fromJson(String json) throws CheckpointFormatException {
        Objects.requireNonNull(json, "json");
        JsonValue root;
        try {
            root = JsonValue.parse(json);
        } catch (JsonProcessingException e) {
            String m = e.getOriginalMessage() == null ? "" : e.getOriginalMessage().replaceAll("\\s+", " ");
            throw new CheckpointFormatException("the settings are not valid JSON: " + shorten(m));
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointFormatException("the settings are not a JSON object");
        }
        String optimizer = text(root, "optimizer");
        boolean adam = optimizer.equals("adam");
        for (Iterator<Map.Entry<String, JsonValue>> it = root.fields(); it.hasNext(); ) {
            String key = it.next().getKey();
            if (!KEYS.contains(key) && !(adam && (key.equals("betas") || key.equals("eps")))) {
                throw new CheckpointFormatException("the settings have an unknown key '" + shorten(key) + "'");
            }
        }
        Precision precision;
        String precisionName = text(root, "precision");
        try {
            precision = Precision.parse(precisionName);
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException("the settings' precision is '" + shorten(precisionName)
                    + "', not float32 or float64");
        }
        if (adam) {
            JsonValue betas = root.get("betas");
            if (betas == null || !betas.isArray() || betas.size() != 2 || !betas.get(0).isNumber()
                    || !betas.get(1).isNumber() || betas.get(0).doubleValue() != BETA1
                    || betas.get(1).doubleValue() != BETA2) {
                throw new CheckpointFormatException("the settings' Adam betas must be [0.9, 0.999], PyTorch's "
                        + "defaults, the only ones rnn4j trains with");
            }
            if (number(root, "eps") != EPS) {
                throw new CheckpointFormatException("the settings' Adam eps must be 1e-08, PyTorch's default");
            }
        }
        int layers = integer(root, "layers");
        int hidden = integer(root, "hidden");
        int embedding = integer(root, "embedding");
        int seqLen = integer(root, "seq_len");
        int batch = integer(root, "batch");
        double lr = number(root, "lr");
        double clip = number(root, "clip");
        double dropout = number(root, "dropout");
        double valFraction = number(root, "val_fraction");
        JsonValue seedNode = field(root, "seed");
        if (!seedNode.isIntegralNumber() || !seedNode.canConvertToLong()) {
            throw new CheckpointFormatException("the settings' seed is not an integer");
        }
        long seed = seedNode.longValue();
        String p = problem(layers, hidden, embedding, seqLen, batch, optimizer, lr, clip, dropout, valFraction, seed);
        if (p != null) {
            throw new CheckpointFormatException("the settings are not valid: " + p);
        }
        return new CharLmSettings(layers, hidden, embedding, seqLen, batch, optimizer, lr, clip, dropout, valFraction,
                seed, precision);
    }

    private static JsonValue field(JsonValue root, String key) throws CheckpointFormatException {
        JsonValue n = root.get(key);
        if (n == null) {
            throw new CheckpointFormatException("the settings lack '" + key + "'");
        }
        return n;
    }

    private static String text(JsonValue root, String key) throws CheckpointFormatException {
        JsonValue n = field(root, key);
        if (!n.isTextual()) {
            throw new CheckpointFormatException("the settings' " + key + " is not a string");
        }
        return n.textValue();
    }

    private static int integer(JsonValue root, String key) throws CheckpointFormatException {
        JsonValue n = field(root, key);
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new CheckpointFormatException("the settings' " + key + " is not an integer (32 bits)");
        }
        return n.intValue();
    }

    private static double number(JsonValue root, String key) throws CheckpointFormatException {
        JsonValue n = field(root, key);
        if (!n.isNumber()) {
            throw new CheckpointFormatException("the settings' " + key + " is not a number");
        }
        return n.isIntegralNumber() ? n.bigIntegerValue().doubleValue() : n.doubleValue();
    }

    private static String shorten(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    /**
     * One line describing the model and its training, for a command's output.
     *
     * @param vocabSize {@code V}
     * @return the line
     */
    public String describe(int vocabSize) {
        return String.format(Locale.ROOT, "embedding %d -> lstm %d x %d%s -> linear %d; %s lr %s, clip %s; "
                        + "seq-len %d, batch %d, seed %d, %s", embedding, hidden, layers,
                dropout > 0 ? " (dropout " + ShortestDouble.toString(dropout) + ")" : "", vocabSize, optimizer,
                ShortestDouble.toString(lr), clip == 0 ? "off" : ShortestDouble.toString(clip), seqLen, batch, seed,
                precision.cliName());
    }
}
