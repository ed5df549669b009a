package org.rnn4j.charlm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.io.CheckpointFormatException;
import org.rnn4j.text.CharLmData;

/** The character model's training: resuming is exact, validation changes nothing, a non-finite step stops clean. */
class CharLmTrainerTest {

    private static final String TEXT = CharLmFixtures.text(1200);

    static Stream<Arguments> runs() {
        return Stream.of(
                Arguments.of(Precision.FLOAT64, "adam", 1.0, 0.3),
                Arguments.of(Precision.FLOAT32, "adam", 1.0, 0.3),
                Arguments.of(Precision.FLOAT64, "sgd", 0.0, 0.0),
                Arguments.of(Precision.FLOAT32, "sgd", 0.5, 0.2));
    }

    /**
     * {@code --steps 2N} in one run and {@code --steps N} then a resume from the checkpoint (through its bytes) to
     * {@code 2N} give the same checkpoint bytes. N is chosen so that both halves cross a pass over the data (the state
     * reset at window 0) and the resume starts in the middle of a pass (the carried state comes from the file). The
     * uninterrupted run also validates along the way, which must change nothing.
     */
    @ParameterizedTest(name = "{0} {1} clip {2} dropout {3}")
    @MethodSource("runs")
    void resumingEqualsAnUninterruptedRunBitForBit(Precision precision, String optimizer, double clip,
                                                   double dropout) throws Exception {
        CharLmSettings s = CharLmFixtures.tiny(optimizer, clip, dropout, precision);
        CharLmData data = CharLmFixtures.data(TEXT, s);
        int windows = data.training().windowCount();
        assertTrue(windows >= 4 && windows < 100, "windows " + windows);
        int n = windows + windows / 2; // resume in the middle of the second pass
        String sha = CharLmFixtures.sha256(TEXT);

        byte[] whole;
        try (Backend be = CharLmFixtures.cpu(precision); CharLmTrainer t = CharLmTrainer.start(be, s, data, sha)) {
            for (int i = 0; i < 2 * n; i++) {
                t.update();
                if (i % 5 == 0) {
                    assertTrue(Double.isFinite(t.validate()));
                }
            }
            whole = t.checkpoint().toSafetensors().toBytes();
        }
        byte[] half;
        try (Backend be = CharLmFixtures.cpu(precision); CharLmTrainer t = CharLmTrainer.start(be, s, data, sha)) {
            for (int i = 0; i < n; i++) {
                t.update();
            }
            half = t.checkpoint().toSafetensors().toBytes();
        }
        CharLmCheckpoint read = CharLmCheckpoint.of(org.rnn4j.io.Safetensors.parse(half, "half"), "half");
        assertEquals(n, read.step());
        byte[] resumed;
        try (Backend be = CharLmFixtures.cpu(precision);
             CharLmTrainer t = CharLmTrainer.resume(be, read, CharLmFixtures.data(TEXT, s))) {
            assertArrayEquals(half, t.checkpoint().toSafetensors().toBytes(), "a resumed trainer's checkpoint "
                    + "before any update is the one it resumed from");
            for (int i = 0; i < n; i++) {
                t.update();
            }
            resumed = t.checkpoint().toSafetensors().toBytes();
        }
        assertArrayEquals(whole, resumed, "steps 2N in one run and N + resume to 2N differ");
        assertFalse(Arrays.equals(half, whole));
    }

    /** A resume that skipped the carried state (starting the window from zero) is caught by the bit comparison. */
    @Test
    void theCarriedStateMattersToTheComparison() throws Exception {
        CharLmSettings s = CharLmFixtures.tiny("adam", 1.0, 0, Precision.FLOAT64);
        CharLmData data = CharLmFixtures.data(TEXT, s);
        int n = data.training().windowCount() / 2;
        CharLmCheckpoint half = CharLmFixtures.trained(s, TEXT, n);
        CharLmCheckpoint whole = CharLmFixtures.trained(s, TEXT, n + 1);
        CharLmCheckpoint zeroed = new CharLmCheckpoint(s, half.vocabulary(), half.textSha256(), half.step(),
                half.optimizerSteps(), half.dropoutSeed(), half.dropoutOffset(), half.model(), half.expAvg(),
                half.expAvgSq(), new double[half.stateH().length], new double[half.stateC().length]);
        try (Backend be = CharLmFixtures.cpu(s.precision()); CharLmTrainer t = CharLmTrainer.resume(be, zeroed, data)) {
            t.update();
            assertFalse(Arrays.equals(whole.toSafetensors().toBytes(), t.checkpoint().toSafetensors().toBytes()));
        }
    }

    @Test
    void trainingLowersTheTrainingAndValidationLoss() throws Exception {
        CharLmSettings s = new CharLmSettings(1, 32, 8, 16, 4, "adam", 0.01, 5, 0, 0.1, 3, Precision.FLOAT32);
        String text = CharLmFixtures.text(6000);
        CharLmData data = CharLmFixtures.data(text, s);
        try (Backend be = CharLmFixtures.cpu(s.precision());
             CharLmTrainer t = CharLmTrainer.start(be, s, data, CharLmFixtures.sha256(text))) {
            double v0 = t.validate();
            double first = t.update().loss();
            assertEquals(Math.log(data.vocabulary().size()), first, 0.2, "an untrained model is about uniform");
            double last = 0;
            for (int i = 0; i < 150; i++) {
                last = t.update().loss();
            }
            double v1 = t.validate();
            assertTrue(last < first - 0.8, "loss " + first + " -> " + last);
            assertTrue(v1 < v0 - 0.8, "validation loss " + v0 + " -> " + v1);
        }
    }

    /** Validation with no window says so (NaN), and changes nothing. */
    @Test
    void validationWithoutWindowsIsSkipped() throws Exception {
        CharLmSettings s = new CharLmSettings(1, 4, 3, 7, 3, "adam", 0.01, 5, 0, 0.0, 3, Precision.FLOAT64);
        CharLmData data = CharLmFixtures.data(TEXT, s);
        assertTrue(data.validationSkipReason() != null);
        try (Backend be = CharLmFixtures.cpu(s.precision());
             CharLmTrainer t = CharLmTrainer.start(be, s, data, CharLmFixtures.sha256(TEXT))) {
            assertTrue(Double.isNaN(t.validate()));
        }
    }

    /** A loss that is not finite stops the update before the optimizer: the model and its state stay as they were. */
    @Test
    void aNonFiniteLossStopsBeforeTheUpdate() throws Exception {
        CharLmSettings s = CharLmFixtures.tiny("adam", 1.0, 0, Precision.FLOAT32);
        CharLmCheckpoint ck = CharLmFixtures.trained(s, TEXT, 3);
        Map<String, double[]> model = ck.model();
        Arrays.fill(model.get("head.weight"), 3e38);
        CharLmCheckpoint huge = new CharLmCheckpoint(s, ck.vocabulary(), ck.textSha256(), ck.step(),
                ck.optimizerSteps(), ck.dropoutSeed(), ck.dropoutOffset(), model, ck.expAvg(), ck.expAvgSq(),
                ck.stateH(), ck.stateC());
        try (Backend be = CharLmFixtures.cpu(s.precision());
             CharLmTrainer t = CharLmTrainer.resume(be, huge, CharLmFixtures.data(TEXT, s))) {
            byte[] before = t.checkpoint().toSafetensors().toBytes();
            CharLmTrainer.NonFiniteException e = assertThrows(CharLmTrainer.NonFiniteException.class, t::update);
            assertEquals(4, e.step());
            assertTrue(e.getMessage().startsWith("step 4: the "), e.getMessage());
            assertEquals(3, t.step());
            assertArrayEquals(before, t.checkpoint().toSafetensors().toBytes());
        }
    }

    /** The checkpoint's model tensors are the model's own, in PyTorch's order and sizes. */
    @Test
    void checkpointNamesAreTheModelsStateDictNames() throws CheckpointFormatException {
        CharLmSettings s = CharLmFixtures.tiny("adam", 1.0, 0, Precision.FLOAT64);
        CharLmData data = CharLmFixtures.data(TEXT, s);
        try (Backend be = CharLmFixtures.cpu(s.precision());
             CharLmTrainer t = CharLmTrainer.start(be, s, data, CharLmFixtures.sha256(TEXT))) {
            var specs = CharLmCheckpoint.modelSpecs(s, data.vocabulary().size());
            var tensors = t.model().parameterTensors();
            assertEquals(specs.size(), tensors.size());
            for (int i = 0; i < specs.size(); i++) {
                assertEquals(tensors.get(i).name(), specs.get(i).name());
                assertEquals(tensors.get(i).size(), specs.get(i).size());
            }
        }
    }
}
