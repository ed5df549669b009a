package org.rnn4j.charlm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.testing.Json;

/**
 * PyTorch -> rnn4j without PyTorch: checkpoints that {@code tools/charlm_torch.py fixture} wrote from a PyTorch
 * {@code Embedding -> LSTM -> Linear} (in each precision) load, and rnn4j's single-step forward over the prime gives
 * PyTorch's logits within the tolerances ({@code 1e-5*|ref| + 1e-6} in float32, {@code 1e-12*|ref| + 1e-14} in
 * float64). The other direction, and training, are checked by the script itself where PyTorch is installed.
 */
class CharLmTorchFixtureTest {

    @Test
    void pytorchWrittenCheckpointsGivePytorchsLogits() throws Exception {
        Path dir = Path.of(CharLmTorchFixtureTest.class.getResource("/org/rnn4j/charlm/torch_charlm_logits.json")
                .toURI()).getParent();
        Json fixture = Json.parse(dir.resolve("torch_charlm_logits.json"));
        String prime = fixture.get("prime").asText();
        int checked = 0;
        for (Json c : fixture.get("cases")) {
            Precision p = Precision.parse(c.get("precision").asText());
            CharLmCheckpoint ck = CharLmCheckpoint.read(dir.resolve(c.get("file").asText()));
            assertEquals(p, ck.settings().precision());
            double rtol = p == Precision.FLOAT32 ? 1e-5 : 1e-12;
            double atol = p == Precision.FLOAT32 ? 1e-6 : 1e-14;
            int[] cps = prime.codePoints().toArray();
            try (Backend be = CharLmFixtures.cpu(p); CharLmSampler s = new CharLmSampler(be, ck)) {
                for (int i = 0; i < cps.length; i++) {
                    int token = ck.vocabulary().indexOf(cps[i]);
                    assertEquals(c.get("tokens").get(i).asInt(), token);
                    double[] got = s.feed(token);
                    Json want = c.get("logits").get(i);
                    assertEquals(want.size(), got.length);
                    for (int j = 0; j < got.length; j++) {
                        double w = want.get(j).asDouble();
                        assertTrue(Math.abs(got[j] - w) <= rtol * Math.abs(w) + atol, p + " position " + i
                                + " logit " + j + ": rnn4j " + got[j] + ", PyTorch " + w);
                        checked++;
                    }
                }
            }
        }
        assertEquals(2 * 13 * 27, checked, "two precisions, the 13 characters of the prime, 27 logits each");
    }
}
