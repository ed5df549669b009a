package org.rnn4j.charlm;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.net.ParamTensor;
import org.rnn4j.nn.Adam;
import org.rnn4j.nn.CrossEntropyLoss;
import org.rnn4j.nn.GradientClipping;
import org.rnn4j.nn.Lstm;
import org.rnn4j.nn.Optimizer;
import org.rnn4j.nn.Sequential;
import org.rnn4j.nn.Sgd;
import org.rnn4j.text.CharLmData;
import org.rnn4j.text.TokenStreams;

/**
 * Trains a character-level language model exactly as issue 10 specifies, so that a run can be reproduced outside
 * rnn4j from the checkpoint {@code --steps 0} writes:
 *
 * <ul>
 *   <li>the model: {@code nn.Embedding(V, E)}, {@code nn.LSTM(E, H, num_layers=L, dropout=p)},
 *       {@code nn.Linear(H, V)} ({@link CharLmSettings#model}), initialised from the settings' seed;
 *   <li>update {@code s} (0-based) reads training window {@code w = s mod W} ({@link TokenStreams}); the LSTM starts
 *       from zero when {@code w == 0}, otherwise from the final state of the previous update, carried without
 *       gradient (truncated backpropagation through time);
 *   <li>the loss is the mean cross-entropy over the {@code T*B} positions; the gradients are clipped as
 *       {@code clip_grad_norm_(params, clip)} (the total norm before clipping is reported; clip 0 leaves them); then
 *       {@code torch.optim.Adam(lr)} with its default betas and eps, or plain SGD;
 *   <li>{@link #validate()}: the mean cross-entropy over every validation window (its own {@code B} streams, the state
 *       carried from zero, no dropout), on the inference path, so nothing of the training changes.
 * </ul>
 *
 * A loss or gradient norm that is not finite stops the update before the optimizer runs
 * ({@link NonFiniteException}), leaving the model and the optimizer as they were. {@link #checkpoint()} captures
 * everything; {@link #resume} continues from it, bit for bit as if the run had not stopped (on a deterministic
 * backend such as the CPU). Not thread-safe.
 */
public final class CharLmTrainer implements AutoCloseable {

    /** One update's result: its 1-based number, the batch loss before the update and the gradient norm. */
    public record Update(long step, double loss, double gradNorm) {
    }

    /** The loss or gradient norm of an update is not finite; the update was not applied. */
    public static final class NonFiniteException extends Exception {
        private static final long serialVersionUID = 1L;
        /** The update's 1-based number. */
        private final long step;

        NonFiniteException(long step, double loss, double norm) {
            super("step " + step + ": the " + (Double.isFinite(loss) ? "gradient norm is " + norm
                    : "loss is " + loss) + "; training stopped before this update");
            this.step = step;
        }

        /** @return the update's 1-based number */
        public long step() {
            return step;
        }
    }

    private final Backend backend;
    private final CharLmSettings settings;
    private final CharLmData data;
    private final String textSha256;
    private final Sequential model;
    private final Lstm lstm;
    private final Sequential.Workspace ws;
    private final Lstm.Workspace lstmWs;
    private final CrossEntropyLoss loss;
    private final Optimizer optimizer;
    private final GradientClipping clipping;
    private final int[] inputs;
    private final int[] targets;
    private long step;
    /** The state to start the next update from, when it does not come from the workspace (a resumed run). */
    private double[][] pendingState;
    private Sequential.State valState;
    private CrossEntropyLoss valLoss;
    private Buffer valInputs;
    private Buffer valOutputs;

    private CharLmTrainer(Backend backend, CharLmSettings settings, CharLmData data, String textSha256) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.data = Objects.requireNonNull(data, "data");
        this.textSha256 = Objects.requireNonNull(textSha256, "textSha256");
        if (backend.precision() != settings.precision()) {
            throw new IllegalArgumentException("the backend's precision (" + backend.precision().cliName()
                    + ") is not the settings' (" + settings.precision().cliName() + ")");
        }
        TokenStreams train = data.training();
        if (train.batch() != settings.batch() || train.seqLen() != settings.seqLen()) {
            throw new IllegalArgumentException("the data is cut for batch " + train.batch() + " and seq_len "
                    + train.seqLen() + ", the settings say " + settings.batch() + " and " + settings.seqLen());
        }
        int v = data.vocabulary().size();
        int tb = Math.multiplyExact(settings.seqLen(), settings.batch());
        this.model = settings.model(v).build(backend, settings.seed());
        Sequential.Workspace w = null;
        CrossEntropyLoss l = null;
        Optimizer o = null;
        GradientClipping c = null;
        try {
            w = model.workspace(settings.seqLen(), settings.batch());
            l = new CrossEntropyLoss(backend, tb, v);
            o = settings.adam() ? new Adam(model.arena(), settings.lr()) : new Sgd(model.arena(), settings.lr());
            c = new GradientClipping(model.arena());
        } catch (RuntimeException | Error e) {
            for (AutoCloseable a : new AutoCloseable[] {c, o, l, w, model}) {
                closeQuietly(a);
            }
            throw e;
        }
        this.ws = w;
        this.loss = l;
        this.optimizer = o;
        this.clipping = c;
        this.lstm = model.layer("lstm", Lstm.class);
        this.lstmWs = ws.lstm("lstm");
        this.inputs = new int[tb];
        this.targets = new int[tb];
    }

    /**
     * A new run at step 0, with the model initialised from the settings' seed.
     *
     * @param backend    where to train; of the settings' precision
     * @param settings   the settings
     * @param data       the text prepared with the settings' batch, seq_len and val_fraction
     * @param textSha256 the SHA-256 of the text, for the checkpoints
     * @return the trainer; close it
     */
    public static CharLmTrainer start(Backend backend, CharLmSettings settings, CharLmData data, String textSha256) {
        return new CharLmTrainer(backend, settings, data, textSha256);
    }

    /**
     * Continues a run from its checkpoint: the model, the optimizer's state, the carried LSTM state, the dropout
     * draws and the step count as they were.
     *
     * @param backend    where to train; of the checkpoint's precision
     * @param checkpoint the checkpoint
     * @param data       the same text, prepared with the checkpoint's vocabulary and settings
     * @return the trainer; close it
     * @throws IllegalArgumentException when the data does not fit the checkpoint
     */
    public static CharLmTrainer resume(Backend backend, CharLmCheckpoint checkpoint, CharLmData data) {
        if (!data.vocabulary().equals(checkpoint.vocabulary())) {
            throw new IllegalArgumentException("the data's vocabulary is not the checkpoint's");
        }
        CharLmTrainer t = new CharLmTrainer(backend, checkpoint.settings(), data, checkpoint.textSha256());
        try {
            t.model.loadStateDict(checkpoint.model());
            if (t.optimizer instanceof Adam adam) {
                adam.load(t.flatten(checkpoint.expAvg()), t.flatten(checkpoint.expAvgSq()),
                        checkpoint.optimizerSteps());
            }
            t.lstm.setDropoutState(checkpoint.dropoutSeed(), checkpoint.dropoutOffset());
            t.step = checkpoint.step();
            t.pendingState = new double[][] {checkpoint.stateH(), checkpoint.stateC()};
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    private double[] flatten(Map<String, double[]> byName) {
        double[] all = new double[model.arena().size()];
        for (ParamTensor p : model.arena().tensors()) {
            System.arraycopy(byName.get(p.name()), 0, all, p.offset(), p.size());
        }
        return all;
    }

    private Map<String, double[]> split(double[] all) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (ParamTensor p : model.arena().tensors()) {
            double[] v = new double[p.size()];
            System.arraycopy(all, p.offset(), v, 0, v.length);
            out.put(p.name(), v);
        }
        return out;
    }

    /** @return the updates done so far (counted from the run's start, resumed or not) */
    public long step() {
        return step;
    }

    /** @return the settings */
    public CharLmSettings settings() {
        return settings;
    }

    /** @return the data */
    public CharLmData data() {
        return data;
    }

    /** @return the model (for inspection; training changes it) */
    public Sequential model() {
        return model;
    }

    /** @return the characters one update reads, {@code T * B} */
    public long charsPerUpdate() {
        return (long) settings.seqLen() * settings.batch();
    }

    /**
     * One update: the next window's forward, loss, backward, clipping and optimizer step. Waits for the device to
     * read the loss and the gradient norm.
     *
     * @return the update's number (1-based), loss and gradient norm
     * @throws NonFiniteException when the loss or the norm is not finite (nothing was updated)
     */
    public Update update() throws NonFiniteException {
        TokenStreams train = data.training();
        int w = train.windowOfStep(step);
        train.fill(w, inputs, targets);
        ws.setTokens(inputs);
        loss.setTargets(targets);
        if (w == 0) {
            ws.resetState();
        } else if (pendingState != null) {
            lstmWs.setInitialState(pendingState[0], pendingState[1]);
        } else {
            ws.carryState();
        }
        model.forward(ws);
        loss.forward(ws.outputs());
        loss.backward(ws.outputs(), ws.outputGrads());
        model.backward(ws);
        if (settings.clip() > 0) {
            clipping.clipGradNorm(settings.clip());
        } else {
            clipping.computeNorm();
        }
        double value = loss.value();
        double norm = clipping.lastNorm();
        if (!Double.isFinite(value) || !Double.isFinite(norm)) {
            throw new NonFiniteException(step + 1, value, norm);
        }
        optimizer.step();
        pendingState = null;
        step++;
        return new Update(step, value, norm);
    }

    /**
     * The validation loss: the mean cross-entropy (in nats) over every window of the validation data, each stream's
     * state carried from zero, without dropout. Changes nothing the training uses.
     *
     * @return the loss, or NaN when the validation data has no window ({@link CharLmData#validationSkipReason()})
     */
    public double validate() {
        TokenStreams val = data.validation();
        int windows = val.windowCount();
        if (windows == 0) {
            return Double.NaN;
        }
        int b = settings.batch();
        int t = settings.seqLen();
        int v = data.vocabulary().size();
        if (valState == null) {
            valState = model.state(b);
            valLoss = new CrossEntropyLoss(backend, t * b, v);
            valInputs = backend.allocate(t * b);
            valOutputs = backend.allocate(Math.multiplyExact(t * b, v));
        }
        int[] in = new int[t * b];
        int[] tg = new int[t * b];
        double sum = 0;
        valState.reset();
        for (int w = 0; w < windows; w++) {
            val.fill(w, in, tg);
            backend.uploadIndices(in, 0, valInputs);
            valLoss.setTargets(tg);
            valState.forward(valInputs, valOutputs);
            valLoss.forward(valOutputs);
            sum += valLoss.value();
        }
        return sum / windows;
    }

    /**
     * Everything the run needs to continue, downloaded from the device.
     *
     * @return the checkpoint at the current step
     */
    public CharLmCheckpoint checkpoint() {
        Map<String, double[]> m1 = Map.of();
        Map<String, double[]> m2 = Map.of();
        long optimizerSteps = step;
        if (optimizer instanceof Adam adam) {
            m1 = split(backend.download(adam.expAvg()));
            m2 = split(backend.download(adam.expAvgSq()));
            optimizerSteps = adam.stepCount();
        }
        double[] h;
        double[] c;
        if (pendingState != null) {
            h = pendingState[0];
            c = pendingState[1];
        } else if (step == 0) {
            int lbh = settings.layers() * settings.batch() * settings.hidden();
            h = new double[lbh];
            c = new double[lbh];
        } else {
            h = lstmWs.downloadFinalH();
            c = lstmWs.downloadFinalC();
        }
        return new CharLmCheckpoint(settings, data.vocabulary(), textSha256, step, optimizerSteps,
                lstm.dropoutSeed(), lstm.dropoutOffset(), model.stateDict(), m1, m2, h, c);
    }

    /** Releases everything on the device. Idempotent. */
    @Override
    public void close() {
        for (AutoCloseable a : new AutoCloseable[] {valOutputs, valInputs, valLoss, valState, clipping, optimizer,
                loss, ws, model}) {
            closeQuietly(a);
        }
    }

    private static void closeQuietly(AutoCloseable a) {
        if (a != null) {
            try {
                a.close();
            } catch (Exception ignored) {
                // releasing device memory is best effort once something failed
            }
        }
    }
}
