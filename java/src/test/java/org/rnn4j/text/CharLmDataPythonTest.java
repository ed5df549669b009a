package org.rnn4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rnn4j.io.PythonScripts;

/**
 * The Java pipeline (TextCorpus, Vocabulary, CharLmData) against the few lines of tools/charlm_data.py on a directory
 * with every case the rules name. Skipped, with the reason, where python3 is missing.
 */
class CharLmDataPythonTest {

    @TempDir
    Path dir;

    private void write(String relative, byte[] content) throws Exception {
        Path p = dir.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.write(p, content);
    }

    private void write(String relative, String content) throws Exception {
        write(relative, content.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void javaAndThePythonReferenceAgreeOnEverything() throws Exception {
        PythonScripts.assumePython(false);
        Random r = new Random(3);
        String[] words = {"the", "cat", "sat", "\u00e9t\u00e9", "na\u00efve", "\uD835\uDD38", "\u20AC", "\r\n", "\n",
            "  ", ",", "\uFB00"};
        String[] names = {"a.txt", "B.txt", "\u00e9.txt", "z/deep/er.txt", "z.txt", "\uFB00", "\uD835\uDD38",
            "sub.txt", "sub/x.txt"};
        for (String name : names) {
            StringBuilder b = new StringBuilder(name.equals("a.txt") ? "\uFEFF" : "");
            int count = 50 + r.nextInt(200);
            for (int i = 0; i < count; i++) {
                b.append(words[r.nextInt(words.length)]).append(' ');
            }
            write(name, b.toString());
        }
        write("empty.txt", "");
        write(".hidden.txt", "hidden");
        write("z/.git/x", "hidden");
        write("latin1.txt", new byte[] {'c', 'a', 'f', (byte) 0xE9});
        Files.createSymbolicLink(dir.resolve("link.txt"), dir.resolve("a.txt"));

        int batch = 3;
        int seqLen = 7;
        double valFraction = 0.1;
        List<String> warnings = new ArrayList<>();
        TextCorpus corpus = TextCorpus.read(dir, warnings::add);
        CharLmData data = CharLmData.prepare(corpus.codePoints(), valFraction, batch, seqLen);

        PythonScripts.Result result = PythonScripts.script("charlm_data.py", "--text", dir.toString(),
                "--batch", "" + batch, "--seq-len", "" + seqLen, "--val-fraction", "" + valFraction);
        assertEquals(0, result.exitCode(), result.stderr());
        JsonNode py = new ObjectMapper().readTree(result.stdout());

        assertEquals(strings(py.get("files")), corpus.files());
        assertEquals(List.of("latin1.txt"), strings(py.get("skipped")));
        assertEquals(List.of("skipping '" + dir.resolve("latin1.txt") + "': not valid UTF-8 text (at byte 3)"),
                warnings);
        assertEquals(py.get("sha256").asText(), corpus.sha256());
        assertArrayEquals(ints(py.get("vocabulary")), data.vocabulary().codePoints());
        assertEquals(py.get("n").asInt(), data.textLength());
        assertEquals(py.get("n_val").asInt(), data.validationLength());
        compare(py.get("train"), data.training());
        compare(py.get("validation"), data.validation());
        assertEquals(true, data.validation().windowCount() > 0, "the sample has validation windows to compare");
    }

    private static void compare(JsonNode py, TokenStreams java) {
        assertEquals(py.get("L").asInt(), java.streamLength());
        assertEquals(py.get("W").asInt(), java.windowCount());
        for (int w = 0; w < java.windowCount(); w++) {
            TokenStreams.Batch b = java.window(w);
            assertArrayEquals(ints(py.get("windows").get(w).get("inputs")), b.inputs(), "window " + w);
            assertArrayEquals(ints(py.get("windows").get(w).get("targets")), b.targets(), "window " + w);
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
