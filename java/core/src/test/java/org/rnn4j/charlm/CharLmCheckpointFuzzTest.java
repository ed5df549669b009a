package org.rnn4j.charlm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Precision;
import org.rnn4j.io.CheckpointFormatException;
import org.rnn4j.io.DType;
import org.rnn4j.io.Safetensors;
import org.rnn4j.io.Tensor;

/**
 * Mutates a valid character-model checkpoint at least 10,000 times and reads each result as a checkpoint: every read
 * either gives a checkpoint consistent with its own settings (and which writes back to the same bytes after a
 * second read) or refuses the file with a one-line {@link CheckpointFormatException} naming it; never another
 * exception. Mutations: the file's bytes (flipped, set, cut, inserted, deleted; the header length), the header's
 * text (numbers, dtypes, JSON tokens), and the content through a valid safetensors file (metadata values and their
 * JSON fields, tensors removed, renamed, added, reshaped, retyped, or holding NaN), so that the checks beyond the
 * format are reached too.
 */
class CharLmCheckpointFuzzTest {

    private static final int MUTATIONS = 12_000;
    private static final String FILE = "fuzz.safetensors";
    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?(e-?\\d+)?");
    private static final String[] NUMBERS = {"0", "1", "-1", "2", "3", "4", "7", "8", "12", "0.5", "1e-08", "0.999",
        "4294967296", "2147483648", "9223372036854775807", "9223372036854775808", "1e999", "-0", "00", "1.0",
        "99999999999999999999", "null", "\"3\"", "true", "[]", "{}", "1114112", "55296", "NaN"};
    private static final String[] JUNK = {",", "{", "}", "[", "]", "\"", ":", "null", "true", "\\", "\\u0000",
        "\\ud800", " ", "\u00e9", "\u0000", "NaN", "\"x\":1", ",\"extra\":0"};
    private static final String[] META_VALUES = {"", "1", "2", "rnn4j-charlm", "rnn4j-charLM", "{}", "[]", "[1]",
        "-1", "01", "18446744073709551616", "0", "null", "{\"dropout_seed\":1}", "[10,10]", "[98,97]", "[-1]",
        "[55296]", "[1114112]", "[10,32]", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B85"};

    static CharLmCheckpoint base(Precision precision, String optimizer) {
        CharLmSettings s = new CharLmSettings(2, 3, 2, 4, 2, optimizer, 0.01, 1.0, 0.25, 0.2, 5, precision);
        return CharLmFixtures.trained(s, CharLmFixtures.text(180), 3);
    }

    @Test
    void everyMutationIsReadConsistentlyOrRefusedWithTheCheckedError() throws Exception {
        List<byte[]> bases = new ArrayList<>();
        for (Precision p : Precision.values()) {
            bases.add(base(p, "adam").toSafetensors().toBytes());
        }
        bases.add(base(Precision.FLOAT32, "sgd").toSafetensors().toBytes());
        for (byte[] b : bases) {
            CharLmCheckpoint.of(Safetensors.parse(b, FILE), FILE); // each base is valid
        }
        Random random = new Random(20261128L);
        int accepted = 0;
        int refused = 0;
        int semantic = 0;
        long start = System.nanoTime();
        for (int i = 0; i < MUTATIONS; i++) {
            byte[] bytes = bases.get(random.nextInt(bases.size()));
            StringBuilder how = new StringBuilder();
            int rounds = 1 + (random.nextInt(4) == 0 ? random.nextInt(3) : 0);
            for (int r = 0; r < rounds; r++) {
                bytes = mutate(bytes, random, how);
            }
            boolean formatValid = false;
            try {
                Safetensors st = Safetensors.parse(bytes, FILE);
                formatValid = true;
                CharLmCheckpoint ck = CharLmCheckpoint.of(st, FILE);
                checkConsistent(ck);
                accepted++;
            } catch (CheckpointFormatException e) {
                assertTrue(e.getMessage().startsWith(FILE + ": "), e.getMessage());
                assertFalse(e.getMessage().contains("\n"), () -> "not one line: " + e.getMessage());
                assertTrue(e.getMessage().length() < 500, e::getMessage);
                refused++;
                if (formatValid) {
                    semantic++;
                }
            } catch (Throwable t) {
                fail("mutation " + i + " (" + how + ") threw " + t, t);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("CharLmCheckpointFuzzTest: %d mutations, %d read, %d refused (%d by the checkpoint's own "
                + "checks on a valid safetensors file), %.1f s%n", MUTATIONS, accepted, refused, semantic, seconds);
        assertEquals(MUTATIONS, accepted + refused);
        assertTrue(accepted > 300, "mutations of the tensor data leave a valid checkpoint: " + accepted);
        assertTrue(semantic > 2000, "the checkpoint's checks beyond the format are reached: " + semantic);
        assertTrue(seconds < 90, "took " + seconds + " s"); // about 5 s on a quiet machine, 16 s at load 9 on 2 cores
    }

    /** What a successful read promises: shapes from the settings, and a file that reads back the same. */
    private static void checkConsistent(CharLmCheckpoint ck) throws CheckpointFormatException {
        CharLmSettings s = ck.settings();
        Map<String, double[]> model = ck.model();
        List<CharLmCheckpoint.Spec> specs = CharLmCheckpoint.modelSpecs(s, ck.vocabulary().size());
        assertEquals(specs.size(), model.size());
        for (CharLmCheckpoint.Spec sp : specs) {
            assertEquals(sp.size(), model.get(sp.name()).length, sp.name());
            for (double v : model.get(sp.name())) {
                assertTrue(Double.isFinite(v));
            }
        }
        assertEquals(s.adam() ? specs.size() : 0, ck.expAvg().size());
        assertEquals((long) s.layers() * s.batch() * s.hidden(), ck.stateH().length);
        assertTrue(ck.optimizerSteps() <= ck.step());
        byte[] again = ck.toSafetensors().toBytes();
        CharLmCheckpoint back = CharLmCheckpoint.of(Safetensors.parse(again, FILE), FILE);
        assertArrayEquals(again, back.toSafetensors().toBytes());
    }

    private static byte[] mutate(byte[] in, Random random, StringBuilder how) throws Exception {
        int kind = random.nextInt(12);
        int n = in.length;
        switch (kind) {
            case 0: { // flip bits, mostly in the tensor data
                byte[] out = in.clone();
                int count = 1 + random.nextInt(3);
                for (int k = 0; k < count && n > 0; k++) {
                    out[random.nextInt(n)] ^= (byte) (1 << random.nextInt(8));
                }
                how.append("flip;");
                return out;
            }
            case 1: { // cut
                int at = n == 0 ? 0 : random.nextInt(n);
                how.append("cut ").append(at).append(';');
                return Arrays.copyOf(in, at);
            }
            case 2: { // insert or delete bytes
                int at = random.nextInt(n + 1);
                if (random.nextBoolean()) {
                    byte[] extra = new byte[1 + random.nextInt(9)];
                    random.nextBytes(extra);
                    how.append("insert at ").append(at).append(';');
                    return splice(in, at, at, extra);
                }
                int end = Math.min(n, at + 1 + random.nextInt(12));
                how.append("delete ").append(at).append(';');
                return splice(in, at, end, new byte[0]);
            }
            case 3: { // the header length
                byte[] out = in.clone();
                if (n >= 8) {
                    long h = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN).getLong();
                    long[] choices = {0, 1, h - 1, h + 1, h + 8, n, Safetensors.MAX_HEADER_BYTES + 1, Long.MAX_VALUE,
                        -1, random.nextLong()};
                    long v = choices[random.nextInt(choices.length)];
                    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
                    how.append("length ").append(v).append(';');
                }
                return out;
            }
            case 4:
            case 5:
                return editHeaderText(in, random, how);
            default:
                return editContent(in, random, how);
        }
    }

    /** Edits the header's text: a number (shape, offset, or inside a metadata value), a dtype, a JSON token. */
    private static byte[] editHeaderText(byte[] in, Random random, StringBuilder how) {
        if (in.length < 8) {
            return in;
        }
        long declared = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (declared < 2 || declared > in.length - 8) {
            return in;
        }
        int length = (int) declared;
        String header = new String(in, 8, length, StandardCharsets.UTF_8);
        String edited;
        int what = random.nextInt(3);
        if (what == 0) {
            Matcher m = NUMBER.matcher(header);
            List<int[]> found = new ArrayList<>();
            while (m.find()) {
                found.add(new int[] {m.start(), m.end()});
            }
            if (found.isEmpty()) {
                return in;
            }
            int[] at = found.get(random.nextInt(found.size()));
            String value = NUMBERS[random.nextInt(NUMBERS.length)];
            edited = header.substring(0, at[0]) + value + header.substring(at[1]);
            how.append("number ").append(header, at[0], at[1]).append("->").append(value).append(';');
        } else if (what == 1) {
            String from = random.nextBoolean() ? "\"F32\"" : "\"F64\"";
            String to = "\"" + new String[] {"F32", "F64", "F16", "I32", "I64", "U8", "BF16", "X"}[random.nextInt(8)]
                    + "\"";
            int at = header.indexOf(from);
            if (at < 0) {
                return in;
            }
            edited = header.substring(0, at) + to + header.substring(at + from.length());
            how.append("dtype ").append(to).append(';');
        } else {
            int at = random.nextInt(header.length() + 1);
            String token = JUNK[random.nextInt(JUNK.length)];
            edited = header.substring(0, at) + token + header.substring(Math.min(header.length(),
                    at + random.nextInt(2)));
            how.append("token ").append(token).append(';');
        }
        byte[] h = edited.getBytes(StandardCharsets.UTF_8);
        byte[] out = splice(in, 8, 8 + length, h);
        if (random.nextInt(4) != 0) {
            ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, h.length);
        }
        return out;
    }

    /** Edits the content and writes a valid safetensors file of it, so that the checkpoint's own checks decide. */
    private static byte[] editContent(byte[] in, Random random, StringBuilder how) throws Exception {
        Safetensors st;
        try {
            st = Safetensors.parse(in, FILE);
        } catch (CheckpointFormatException e) {
            return in; // an earlier round broke the format
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>(st.tensors());
        Map<String, String> meta = new LinkedHashMap<>(st.metadata());
        List<String> names = new ArrayList<>(tensors.keySet());
        List<String> keys = new ArrayList<>(meta.keySet());
        switch (random.nextInt(8)) {
            case 0: { // a metadata value replaced
                String key = keys.isEmpty() ? "format" : keys.get(random.nextInt(keys.size()));
                String v = META_VALUES[random.nextInt(META_VALUES.length)];
                meta.put(key, v);
                how.append("meta ").append(key).append('=').append(v).append(';');
                break;
            }
            case 1: { // a number inside a metadata value (the settings, the vocabulary, the generator)
                if (keys.isEmpty()) {
                    return in;
                }
                String key = keys.get(random.nextInt(keys.size()));
                String value = meta.get(key);
                Matcher m = NUMBER.matcher(value);
                List<int[]> found = new ArrayList<>();
                while (m.find()) {
                    found.add(new int[] {m.start(), m.end()});
                }
                if (found.isEmpty()) {
                    return in;
                }
                int[] at = found.get(random.nextInt(found.size()));
                String old = value.substring(at[0], at[1]);
                String repl = random.nextBoolean() ? NUMBERS[random.nextInt(NUMBERS.length)]
                        : old.contains(".") || old.contains("e") ? old + "1"
                        : new java.math.BigInteger(old).add(java.math.BigInteger.valueOf(random.nextInt(5) - 2)).toString();
                meta.put(key, value.substring(0, at[0]) + repl + value.substring(at[1]));
                how.append("meta ").append(key).append(' ').append(old).append("->").append(repl).append(';');
                break;
            }
            case 2: { // a metadata key removed, renamed or added
                int op = random.nextInt(3);
                if (op == 0 && !keys.isEmpty()) {
                    String k = keys.get(random.nextInt(keys.size()));
                    meta.remove(k);
                    how.append("meta -").append(k).append(';');
                } else if (op == 1 && !keys.isEmpty()) {
                    String k = keys.get(random.nextInt(keys.size()));
                    meta.put(k + "x", meta.remove(k));
                    how.append("meta rename ").append(k).append(';');
                } else {
                    meta.put("time", "2026-11-28T10:00:00Z");
                    how.append("meta +time;");
                }
                break;
            }
            case 3: { // a settings field changed as text (keys, strings)
                String s = meta.getOrDefault("settings", "{}");
                String[][] edits = {{"\"adam\"", "\"sgd\""}, {"\"sgd\"", "\"adam\""}, {"\"float32\"", "\"float64\""},
                    {"\"float64\"", "\"float32\""}, {"\"layers\"", "\"layer\""}, {",\"eps\":1e-08", ""},
                    {"}", ",\"momentum\":0.9}"}, {"\"adam\"", "\"rmsprop\""}, {"\"hidden\":3", "\"hidden\":\"3\""},
                    {"\"float32\"", "\"float16\""}};
                String[] e = edits[random.nextInt(edits.length)];
                meta.put("settings", s.replace(e[0], e[1]));
                how.append("settings ").append(e[0]).append("->").append(e[1]).append(';');
                break;
            }
            case 4: { // a tensor removed or renamed
                String name = names.get(random.nextInt(names.size()));
                Tensor t = tensors.remove(name);
                if (random.nextBoolean()) {
                    tensors.put(name.replace("l0", "l9").replace("weight", "Weight") + "", t);
                    how.append("rename ").append(name).append(';');
                } else {
                    how.append("remove ").append(name).append(';');
                }
                break;
            }
            case 5: { // a tensor added
                tensors.put(random.nextBoolean() ? "optimizer.step" : "lstm.weight_ih_l2",
                        Tensor.ofFloats(new float[] {1, 2}, 2));
                how.append("add tensor;");
                break;
            }
            case 6: { // a tensor reshaped or retyped, its data kept consistent
                String name = names.get(random.nextInt(names.size()));
                Tensor t = tensors.get(name);
                int count = t.elementCount();
                Tensor u;
                if (random.nextBoolean()) {
                    long[][] shapes = {{count}, {1, count}, {count, 1}, {count / 2 == 0 ? 1 : count / 2, 2}};
                    long[] shape = shapes[random.nextInt(shapes.length)];
                    long product = Arrays.stream(shape).reduce(1, (x, y) -> x * y);
                    if (product != count) {
                        return in;
                    }
                    u = Tensor.ofBytes(t.dtype(), t.toBytes(), shape);
                    how.append("reshape ").append(name).append(Arrays.toString(shape)).append(';');
                } else if (t.dtype() == DType.F32) {
                    float[] f = t.toFloats();
                    double[] d = new double[f.length];
                    for (int i = 0; i < f.length; i++) {
                        d[i] = f[i];
                    }
                    u = Tensor.ofDoubles(d, t.shape());
                    how.append("retype ").append(name).append(';');
                } else {
                    u = Tensor.ofInts(new int[count], t.shape());
                    how.append("retype int ").append(name).append(';');
                }
                tensors.put(name, u);
                break;
            }
            default: { // a value that is not finite, or a negative second moment
                String name = names.get(random.nextInt(names.size()));
                Tensor t = tensors.get(name);
                if (t.elementCount() == 0) {
                    return in;
                }
                double v = new double[] {Double.NaN, Double.POSITIVE_INFINITY, -1.5, 0.0}[random.nextInt(4)];
                int at = random.nextInt(t.elementCount());
                if (t.dtype() == DType.F32) {
                    float[] f = t.toFloats();
                    f[at] = (float) v;
                    tensors.put(name, Tensor.ofFloats(f, t.shape()));
                } else {
                    double[] d = t.toDoubles();
                    d[at] = v;
                    tensors.put(name, Tensor.ofDoubles(d, t.shape()));
                }
                how.append("value ").append(name).append('=').append(v).append(';');
                break;
            }
        }
        return new Safetensors(tensors, meta).toBytes();
    }

    private static byte[] splice(byte[] in, int from, int to, byte[] replacement) {
        byte[] out = new byte[in.length - (to - from) + replacement.length];
        System.arraycopy(in, 0, out, 0, from);
        System.arraycopy(replacement, 0, out, from, replacement.length);
        System.arraycopy(in, to, out, from + replacement.length, in.length - to);
        return out;
    }
}
