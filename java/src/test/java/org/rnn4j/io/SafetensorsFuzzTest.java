package org.rnn4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Mutates a valid checkpoint many times (bytes flipped, cut, inserted, deleted; header numbers, dtypes, keys and the
 * header length changed) and checks that every read either gives consistent tensors or refuses the file with a
 * {@link CheckpointFormatException}: never another exception, never an allocation beyond the file.
 */
class SafetensorsFuzzTest {

    private static final int MUTATIONS = 12_000;
    private static final Pattern NUMBER = Pattern.compile("-?\\d+");
    private static final String[] DTYPES = {"F32", "F64", "I64", "I32", "U8", "BOOL", "F16", "BF16", "U64",
        "F8_E4M3", "F4", "C64", "f32", "", "F32\\u0000"};
    private static final String[] NUMBERS = {"0", "1", "-1", "2", "3", "7", "8", "9", "16", "24", "4294967296",
        "9223372036854775807", "9223372036854775808", "18446744073709551615", "1e3", "1.5", "-0", "00",
        "3037000500", "99999999999999999999999999", "null", "\"8\""};
    private static final String[] JUNK = {",", "{", "}", "[", "]", "\"", ":", "null", "true", "\\", "\\u0000",
        "\\ud800", "\"__metadata__\":{}", "\"x\":1", " ", "\u00e9", "\uD835\uDD38", "\u0000", "//", "NaN"};

    static byte[] valid() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("embedding.weight", Tensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 4, 3));
        t.put("lstm.bias_ih_l0", Tensor.ofFloats(new float[] {0.5f, -0.5f, 0.25f, -0.25f}, 4));
        t.put("head.weight", Tensor.ofDoubles(new double[] {Math.PI, Math.E, -1}, 1, 3));
        t.put("optimizer.step", Tensor.ofLongs(new long[] {1234}));
        t.put("empty", Tensor.ofInts(new int[0], 0, 2));
        t.put("counts", Tensor.ofInts(new int[] {1, 2}, 2));
        return new Safetensors(t, Map.of("format", "rnn4j-charlm", "version", "1", "vocabulary", "[10,32,97,98]"))
                .toBytes();
    }

    @Test
    void everyMutationIsReadConsistentlyOrRefusedWithTheCheckedError() {
        byte[] base = valid();
        int headerLength = (int) ByteBuffer.wrap(base).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Random random = new Random(20240610L);
        int accepted = 0;
        int refused = 0;
        long start = System.nanoTime();
        for (int i = 0; i < MUTATIONS; i++) {
            byte[] bytes = base;
            StringBuilder how = new StringBuilder();
            int rounds = 1 + (random.nextInt(4) == 0 ? random.nextInt(3) : 0);
            for (int r = 0; r < rounds; r++) {
                bytes = mutate(bytes, headerLength, random, how);
            }
            try {
                Safetensors s = Safetensors.parse(bytes, "fuzz.safetensors");
                checkConsistent(s, bytes);
                accepted++;
            } catch (CheckpointFormatException e) {
                assertTrue(e.getMessage().startsWith("fuzz.safetensors: "), e.getMessage());
                assertFalse(e.getMessage().contains("\n"), () -> "not one line: " + e.getMessage());
                assertTrue(e.getMessage().length() < 400, e::getMessage);
                refused++;
            } catch (Throwable t) {
                fail("mutation " + i + " (" + how + ") threw " + t, t);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(MUTATIONS, accepted + refused);
        assertTrue(accepted > 100, "some mutations (of tensor data, of padding) leave a valid file: " + accepted);
        assertTrue(refused > MUTATIONS / 2, "most mutations break the file: " + refused);
        assertTrue(seconds < 20, "took " + seconds + " s");
    }

    /** What a successful read promises: sizes that match shapes and, together with the header, the file. */
    private static void checkConsistent(Safetensors s, byte[] file) {
        long header = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
        long total = 0;
        for (Tensor t : s.tensors().values()) {
            long count = 1;
            for (long d : t.shape()) {
                assertTrue(d >= 0);
                count *= d;
            }
            assertEquals(count, t.elementCount(), t::toString);
            assertEquals(count * t.dtype().size(), t.byteCount(), t::toString);
            total += t.byteCount();
        }
        assertEquals(file.length - 8 - header, total);
    }

    private static byte[] mutate(byte[] in, int headerLength, Random random, StringBuilder how) {
        int kind = random.nextInt(10);
        int n = in.length;
        switch (kind) {
            case 0: { // flip bits of a few bytes
                byte[] out = in.clone();
                int count = 1 + random.nextInt(3);
                for (int k = 0; k < count && n > 0; k++) {
                    int at = random.nextInt(n);
                    out[at] ^= (byte) (1 << random.nextInt(8));
                }
                how.append("flip;");
                return out;
            }
            case 1: { // set a random byte to a random value
                byte[] out = in.clone();
                if (n > 0) {
                    out[random.nextInt(n)] = (byte) random.nextInt(256);
                }
                how.append("set;");
                return out;
            }
            case 2: { // cut
                int at = n == 0 ? 0 : random.nextInt(n);
                how.append("cut ").append(at).append(';');
                return Arrays.copyOf(in, at);
            }
            case 3: { // insert random bytes
                int at = random.nextInt(n + 1);
                byte[] extra = new byte[1 + random.nextInt(9)];
                random.nextBytes(extra);
                how.append("insert at ").append(at).append(';');
                return splice(in, at, at, extra);
            }
            case 4: { // delete a range
                if (n == 0) {
                    return in;
                }
                int at = random.nextInt(n);
                int end = Math.min(n, at + 1 + random.nextInt(12));
                how.append("delete ").append(at).append(';');
                return splice(in, at, end, new byte[0]);
            }
            case 5: { // a new header length
                byte[] out = in.clone();
                if (n >= 8) {
                    long[] choices = {0, 1, 7, headerLength - 1, headerLength + 1, headerLength + 8, n, n - 8,
                        Safetensors.MAX_HEADER_BYTES, Safetensors.MAX_HEADER_BYTES + 1, Long.MAX_VALUE, -1,
                        random.nextLong(), random.nextInt(n + 1)};
                    long v = choices[random.nextInt(choices.length)];
                    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
                    how.append("length ").append(v).append(';');
                }
                return out;
            }
            default: // edit the header text: numbers, dtypes, junk tokens, swaps
                return editHeader(in, random, how, kind);
        }
    }

    private static byte[] editHeader(byte[] in, Random random, StringBuilder how, int kind) {
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
        switch (kind) {
            case 6: { // change a number (shape or offset)
                Matcher m = NUMBER.matcher(header);
                int count = 0;
                while (m.find()) {
                    count++;
                }
                if (count == 0) {
                    return in;
                }
                int pick = random.nextInt(count);
                m.reset();
                for (int k = 0; k <= pick; k++) {
                    m.find();
                }
                String value = random.nextBoolean() ? NUMBERS[random.nextInt(NUMBERS.length)]
                        : Long.toString(Long.parseLong(m.group().replace("-", "")) + random.nextInt(9) - 4);
                edited = header.substring(0, m.start()) + value + header.substring(m.end());
                how.append("number ").append(m.group()).append("->").append(value).append(';');
                break;
            }
            case 7: { // change a dtype
                String from = random.nextBoolean() ? "\"F32\"" : random.nextBoolean() ? "\"F64\"" : "\"I32\"";
                String to = "\"" + DTYPES[random.nextInt(DTYPES.length)] + "\"";
                int at = header.indexOf(from);
                if (at < 0) {
                    return in;
                }
                edited = header.substring(0, at) + to + header.substring(at + from.length());
                how.append("dtype ").append(to).append(';');
                break;
            }
            case 8: { // insert or replace with a JSON token
                int at = random.nextInt(header.length() + 1);
                String token = JUNK[random.nextInt(JUNK.length)];
                int end = random.nextBoolean() ? at : Math.min(header.length(), at + 1);
                edited = header.substring(0, at) + token + header.substring(end);
                how.append("token ").append(token).append(" at ").append(at).append(';');
                break;
            }
            default: { // swap two characters
                char[] c = header.toCharArray();
                int a = random.nextInt(c.length);
                int b = random.nextInt(c.length);
                char x = c[a];
                c[a] = c[b];
                c[b] = x;
                edited = new String(c);
                how.append("swap ").append(a).append(',').append(b).append(';');
                break;
            }
        }
        byte[] h = edited.getBytes(StandardCharsets.UTF_8);
        // usually keep the header length true to the edit, so that the edit itself is what is checked
        boolean fixLength = random.nextInt(4) != 0;
        byte[] out = splice(in, 8, 8 + length, h);
        if (fixLength) {
            ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, h.length);
        }
        return out;
    }

    private static byte[] splice(byte[] in, int from, int to, byte[] replacement) {
        byte[] out = new byte[in.length - (to - from) + replacement.length];
        System.arraycopy(in, 0, out, 0, from);
        System.arraycopy(replacement, 0, out, from, replacement.length);
        System.arraycopy(in, to, out, from + replacement.length, in.length - to);
        return out;
    }
}
