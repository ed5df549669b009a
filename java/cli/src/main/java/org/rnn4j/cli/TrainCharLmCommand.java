package org.rnn4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.Device;
import org.rnn4j.backend.DeviceRequest;
import org.rnn4j.backend.DeviceUnavailableException;
import org.rnn4j.backend.Precision;
import org.rnn4j.charlm.CharLmCheckpoint;
import org.rnn4j.charlm.CharLmSettings;
import org.rnn4j.charlm.CharLmTrainer;
import org.rnn4j.io.AtomicFile;
import org.rnn4j.io.CheckpointFormatException;
import org.rnn4j.io.ShortestDouble;
import org.rnn4j.text.CharLmData;
import org.rnn4j.text.TextCorpus;
import org.rnn4j.text.TextCorpusException;
import org.rnn4j.text.TextTooShortException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rnn4j train charlm}: a character-level language model on the user's own text. */
@Command(name = "charlm", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a character-level language model (Embedding -> LSTM -> Linear, cross-entropy, "
                + "gradient clipping, Adam) on a UTF-8 text or a directory of them, with validation, checkpoints and "
                + "exact resuming. Sample from the checkpoint with `rnn4j sample`.",
                "Exit codes: 0 done, 1 a failure while running (a loss that is not finite), 2 bad input, "
                        + "130 interrupted by Ctrl-C (after saving a checkpoint)."})
final class TrainCharLmCommand implements Callable<Integer> {

    /** The checkpoint written when neither --checkpoint nor --resume names one. */
    static final String DEFAULT_CHECKPOINT = "charlm.safetensors";
    /** Exit code of a run stopped by Ctrl-C (128 + SIGINT), after saving its checkpoint. */
    static final int INTERRUPTED = 130;

    /** Jackson, loaded only when a summary is written: `train rnn|lstm` build this command's model too. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }

    @Option(names = "--text", paramLabel = "PATH", required = true,
            description = "A UTF-8 text file, or a directory read recursively (regular files, no links or "
                    + "dot-entries, in the byte order of their relative paths, concatenated).")
    Path text;

    @Option(names = "--layers", paramLabel = "L", defaultValue = "2", description = "Stacked LSTM layers. "
            + "Default: ${DEFAULT-VALUE}.")
    int layers;

    @Option(names = "--hidden", paramLabel = "H", defaultValue = "256", description = "Hidden units per layer. "
            + "Default: ${DEFAULT-VALUE}.")
    int hidden;

    @Option(names = "--embedding", paramLabel = "E", defaultValue = "64", description = "Embedding size. "
            + "Default: ${DEFAULT-VALUE}.")
    int embedding;

    @Option(names = "--seq-len", paramLabel = "T", defaultValue = "64", description = "Characters per window "
            + "(truncated backpropagation through time). Default: ${DEFAULT-VALUE}.")
    int seqLen;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "32", description = "Parallel streams. "
            + "Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "2000", description = "Total updates, counted from "
            + "the start of the run even when resuming; 0 writes the initial model and exits. Default: "
            + "${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "adam", description = "adam (PyTorch's "
            + "defaults: betas 0.9, 0.999, eps 1e-8) or sgd (plain). Default: ${DEFAULT-VALUE}.")
    String optimizer;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "0.002", description = "Learning rate. Default: "
            + "${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--clip", paramLabel = "X", defaultValue = "5", description = "Largest total gradient norm "
            + "(clip_grad_norm_); 0 turns clipping off. Default: ${DEFAULT-VALUE}.")
    double clip;

    @Option(names = "--dropout", paramLabel = "P", defaultValue = "0", description = "Dropout between LSTM layers. "
            + "Default: ${DEFAULT-VALUE}.")
    double dropout;

    @Option(names = "--val-fraction", paramLabel = "F", defaultValue = "0.05", description = "Share of the text, at "
            + "its end, kept for validation. Default: ${DEFAULT-VALUE}.")
    double valFraction;

    @Option(names = "--val-every", paramLabel = "N", defaultValue = "200", description = "Validate after every N "
            + "updates (and after the last). Default: ${DEFAULT-VALUE}.")
    int valEvery;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed of the initial values and "
            + "the dropout draws, 0 to 4294967295. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--precision", paramLabel = "P", defaultValue = "float32", description = "float32 or float64. "
            + "Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto", description = "auto (CUDA when a GPU "
            + "is usable, else the CPU, saying why), cpu or cuda. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "Where to save the checkpoint (safetensors). "
            + "Default: the --resume file, else " + DEFAULT_CHECKPOINT + ".")
    Path checkpoint;

    @Option(names = "--save-every", paramLabel = "N", description = "Save the checkpoint after every N updates "
            + "(and after the last). Default: --val-every.")
    Integer saveEvery;

    @Option(names = "--resume", paramLabel = "FILE", description = "Continue the run saved in this checkpoint: its "
            + "model, data settings, optimizer, seed and precision; the text must be the same.")
    Path resume;

    @Option(names = "--trace", paramLabel = "FILE", description = "One JSON line per update ({\"step\", \"loss\", "
            + "\"grad_norm\"}, and \"val_loss\", \"val_bpc\" when it validates), written and flushed as it goes.")
    Path trace;

    @Option(names = "--summary", paramLabel = "FILE", description = "One JSON object with the run's settings, timing "
            + "and result, written when the run completes.")
    Path summary;

    @Option(names = "--quiet", description = "No progress and no result on stdout; warnings and errors only.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private volatile boolean interrupted;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        validateOptions();
        CharLmCheckpoint resumed = resume == null ? null : readResumed();
        CharLmSettings settings = resumed != null ? resumed.settings() : new CharLmSettings(layers, hidden, embedding,
                seqLen, batch, optimizer, lr, clip, dropout, valFraction, seed, Precision.parse(precision));
        if (resumed != null) {
            checkAgainst(resumed);
        }
        TextCorpus corpus;
        try {
            corpus = TextCorpus.read(text, w -> {
                err.println("rnn4j: " + w);
                err.flush();
            });
        } catch (TextCorpusException e) {
            throw new UsageException("--text: " + e.getMessage());
        }
        if (resumed != null && !resumed.textSha256().equals(corpus.sha256())) {
            throw new UsageException("--text: '" + text + "' is not the text '" + resume + "' was trained on (its "
                    + "SHA-256 is " + corpus.sha256() + ", the checkpoint's " + resumed.textSha256() + ")");
        }
        CharLmData data;
        try {
            int[] codePoints = corpus.codePoints();
            data = resumed == null
                    ? CharLmData.prepare(codePoints, settings.valFraction(), settings.batch(), settings.seqLen())
                    : CharLmData.prepare(codePoints, resumed.vocabulary(), settings.valFraction(), settings.batch(),
                    settings.seqLen());
        } catch (TextTooShortException e) {
            throw new UsageException(e.getMessage());
        }
        Path target = checkpoint != null ? checkpoint : resume != null ? resume : Path.of(DEFAULT_CHECKPOINT);
        checkDistinct(target);
        probeWritable(target);
        if (trace != null) {
            StreamingTrace.check(trace, "--trace");
        }
        try (AtomicFile summaryFile = summary == null ? null : openSummary();
             Device device = openDevice(settings.precision(), err)) {
            Backend be = device.backend();
            CharLmTrainer trainer;
            try {
                trainer = resumed == null ? CharLmTrainer.start(be, settings, data, corpus.sha256())
                        : CharLmTrainer.resume(be, resumed, data);
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new UsageException("--hidden, --embedding, --layers, --seq-len, --batch: the model is too "
                        + "large for this backend's buffers (" + e.getMessage() + ")");
            }
            try (trainer) {
                return train(trainer, corpus, data, target, summaryFile, be, out, err);
            }
        }
    }

    private Integer train(CharLmTrainer trainer, TextCorpus corpus, CharLmData data, Path target,
                          AtomicFile summaryFile, Backend be, PrintWriter out, PrintWriter err) throws IOException {
        CharLmSettings s = trainer.settings();
        int v = data.vocabulary().size();
        long first = trainer.step();
        int every = saveEvery != null ? saveEvery : valEvery;
        print(out, "rnn4j train charlm: " + be.description());
        print(out, String.format(Locale.ROOT, "text: '%s' (%s), %,d characters, vocabulary %d; training %,d in %d "
                        + "streams of %,d: %,d windows of %d; validation %,d", text, files(corpus), data.textLength(), v,
                data.trainingLength(), s.batch(), data.training().streamLength(), data.training().windowCount(),
                s.seqLen(), data.validationLength()));
        print(out, String.format(Locale.ROOT, "model: %s; %,d parameters", s.describe(v),
                trainer.model().parameterCount()));
        String skip = data.validationSkipReason();
        if (skip != null) {
            err.println("rnn4j: " + skip);
            err.flush();
        }
        print(out, resume != null ? String.format(Locale.ROOT, "resuming '%s' at step %,d of %,d; checkpoint: '%s'",
                resume, first, steps, target) : String.format(Locale.ROOT, "%,d steps; checkpoint: '%s'", steps,
                target));

        CharLmProgress progress = new CharLmProgress(out, System.console() != null, quiet, first, steps,
                trainer.charsPerUpdate());
        long savedAt = -1;
        CharLmTrainer.Update last = null;
        double lastVal = Double.NaN;
        long loopStart = System.nanoTime();
        Object previous = installInterruptHandler(err);
        try (StreamingTrace traceFile = trace == null ? null : StreamingTrace.open(trace, "--trace")) {
            while (trainer.step() < steps && !interrupted) {
                long t0 = System.nanoTime();
                CharLmTrainer.Update u;
                try {
                    u = trainer.update();
                } catch (CharLmTrainer.NonFiniteException e) {
                    progress.breakLine();
                    err.println("rnn4j: error: " + e.getMessage() + "; the checkpoint '" + target + "' is left as it "
                            + "was" + (savedAt >= 0 ? " (step " + savedAt + ")" : first > 0 ? " (step " + first + ")"
                            : "") + "; try a lower --lr or a --clip");
                    err.flush();
                    return Main.FAILURE;
                }
                progress.addUpdateNanos(System.nanoTime() - t0);
                last = u;
                long k = u.step();
                boolean validates = k % valEvery == 0 || k == steps;
                double val = validates ? trainer.validate() : Double.NaN;
                if (!Double.isNaN(val)) {
                    lastVal = val;
                }
                if (traceFile != null) {
                    traceFile.println(traceLine(u, val));
                }
                progress.update(k, u.loss(), val);
                if (k % every == 0 || k == steps) {
                    save(trainer, target);
                    savedAt = k;
                }
            }
            if (trainer.step() != savedAt && (interrupted || trainer.step() == first)) {
                save(trainer, target); // Ctrl-C, or no update to do (--steps 0, or already there)
                savedAt = trainer.step();
            }
        } finally {
            restoreInterruptHandler(previous);
        }
        double seconds = (System.nanoTime() - loopStart) / 1e9;
        progress.breakLine();
        long k = trainer.step();
        if (interrupted) {
            err.println("rnn4j: interrupted: stopped after step " + k + " of " + steps + "; checkpoint saved to '"
                    + target + "' (resume with --resume " + target + ")");
            err.flush();
            return INTERRUPTED;
        }
        if (k == first) {
            print(out, first == 0 ? "wrote the initial model to '" + target + "' (step 0)"
                    : "the checkpoint is already at step " + first + ": nothing to do; saved to '" + target + "'");
        } else {
            print(out, String.format(Locale.ROOT, "trained %,d updates in %.1f s (%,.0f chars/s); final loss %.4f%s",
                    k - first, seconds, progress.charsPerSecond(k), last.loss(), Double.isNaN(lastVal) ? ""
                            : String.format(Locale.ROOT, ", validation loss %.4f nats = %.4f bits/char", lastVal,
                            lastVal / Math.log(2))));
            print(out, "checkpoint: '" + target + "' (step " + k + "); sample with: rnn4j sample --checkpoint "
                    + target);
        }
        if (summaryFile != null) {
            ObjectNode o = Json.MAPPER.createObjectNode();
            o.put("network", "charlm");
            o.put("backend", be.name());
            o.put("precision", s.precision().cliName());
            o.set("settings", Json.MAPPER.readTree(s.toJson()));
            o.put("text_sha256", corpus.sha256());
            o.put("text_characters", data.textLength());
            o.put("vocabulary_size", v);
            o.put("parameters", trainer.model().parameterCount());
            o.put("first_step", first);
            o.put("steps", k);
            o.put("seconds", seconds);
            o.put("chars_per_second", progress.charsPerSecond(k));
            if (last != null) {
                o.put("final_loss", last.loss());
                o.put("final_grad_norm", last.gradNorm());
            }
            if (!Double.isNaN(lastVal)) {
                o.put("val_loss", lastVal);
                o.put("val_bits_per_char", lastVal / Math.log(2));
            }
            o.put("checkpoint", target.toString());
            summaryFile.println(Json.MAPPER.writeValueAsString(o));
            summaryFile.commit();
        }
        return 0;
    }

    static String traceLine(CharLmTrainer.Update u, double val) {
        StringBuilder b = new StringBuilder(96);
        b.append("{\"step\": ").append(u.step()).append(", \"loss\": ").append(ShortestDouble.toString(u.loss()))
                .append(", \"grad_norm\": ").append(ShortestDouble.toString(u.gradNorm()));
        if (!Double.isNaN(val)) {
            b.append(", \"val_loss\": ").append(ShortestDouble.toString(val)).append(", \"val_bpc\": ")
                    .append(ShortestDouble.toString(val / Math.log(2)));
        }
        return b.append('}').toString();
    }

    private static void save(CharLmTrainer trainer, Path target) throws IOException {
        try {
            trainer.checkpoint().save(target, "--checkpoint");
        } catch (AtomicFile.UnwritableException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static String files(TextCorpus corpus) {
        List<String> f = corpus.files();
        return f.size() == 1 ? "1 file" : String.format(Locale.ROOT, "%,d files", f.size());
    }

    private void print(PrintWriter out, String line) {
        if (!quiet) {
            out.println(line);
            out.flush();
        }
    }

    // ------------------------------------------------------------------------------------------------ checks

    private void validateOptions() {
        if (!Backends.names().contains(backend)) {
            throw new UsageException("--backend: unknown backend '" + backend + "' (expected "
                    + String.join(" or ", Backends.names()) + ")");
        }
        try {
            Precision.parse(precision);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--precision: " + e.getMessage());
        }
        TrainOptions.atLeastOne(layers, "--layers");
        TrainOptions.atLeastOne(hidden, "--hidden");
        TrainOptions.atLeastOne(embedding, "--embedding");
        TrainOptions.atLeastOne(seqLen, "--seq-len");
        TrainOptions.atLeastOne(batch, "--batch");
        TrainOptions.atLeastOne(valEvery, "--val-every");
        if (saveEvery != null) {
            TrainOptions.atLeastOne(saveEvery, "--save-every");
        }
        if (steps < 0) {
            throw new UsageException("--steps must be at least 0, got " + steps);
        }
        if (!optimizer.equals("adam") && !optimizer.equals("sgd")) {
            throw new UsageException("--optimizer must be adam or sgd, got '" + optimizer + "'");
        }
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new UsageException("--lr must be a positive finite number, got " + lr);
        }
        if (!(clip >= 0) || !Double.isFinite(clip)) {
            throw new UsageException("--clip must be a finite number, at least 0 (0 turns clipping off), got " + clip);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new UsageException("--dropout must be at least 0 and below 1, got " + dropout);
        }
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new UsageException("--val-fraction must be at least 0 and below 1, got " + valFraction);
        }
        if (seed < 0 || seed > CharLmSettings.MAX_SEED) {
            throw new UsageException("--seed must be between 0 and " + CharLmSettings.MAX_SEED + ", got " + seed);
        }
    }

    private CharLmCheckpoint readResumed() {
        try {
            return CharLmCheckpoint.read(resume);
        } catch (CheckpointFormatException | IOException e) {
            throw new UsageException("--resume: " + e.getMessage());
        }
    }

    /** An option given on the command line that is not the checkpoint's value is refused. */
    private void checkAgainst(CharLmCheckpoint ck) {
        CharLmSettings s = ck.settings();
        List<String> clashes = new ArrayList<>();
        clash(clashes, "--layers", layers, s.layers());
        clash(clashes, "--hidden", hidden, s.hidden());
        clash(clashes, "--embedding", embedding, s.embedding());
        clash(clashes, "--seq-len", seqLen, s.seqLen());
        clash(clashes, "--batch", batch, s.batch());
        clash(clashes, "--optimizer", optimizer, s.optimizer());
        clash(clashes, "--lr", lr, s.lr());
        clash(clashes, "--clip", clip, s.clip());
        clash(clashes, "--dropout", dropout, s.dropout());
        clash(clashes, "--val-fraction", valFraction, s.valFraction());
        clash(clashes, "--seed", seed, s.seed());
        clash(clashes, "--precision", Precision.parse(precision).cliName(), s.precision().cliName());
        if (!clashes.isEmpty()) {
            throw new UsageException(String.join("; ", clashes) + ": a resumed run keeps the checkpoint's settings "
                    + "(leave the option out)");
        }
        if (steps < ck.step()) {
            throw new UsageException("--steps " + steps + " is below the step of '" + resume + "' (" + ck.step()
                    + "); --steps counts the updates from the start of the run");
        }
    }

    private void clash(List<String> clashes, String option, Object given, Object theirs) {
        if (spec.commandLine().getParseResult().hasMatchedOption(option) && !given.equals(theirs)) {
            String shown = given instanceof Double d ? ShortestDouble.toString(d) : given.toString();
            String was = theirs instanceof Double d ? ShortestDouble.toString(d) : theirs.toString();
            clashes.add(option + " " + shown + " contradicts the checkpoint '" + resume + "', whose value is " + was);
        }
    }

    /** The checkpoint, trace, summary and text must be different files. */
    private void checkDistinct(Path target) {
        List<Path> outputs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        outputs.add(target);
        names.add("--checkpoint");
        if (trace != null) {
            outputs.add(trace);
            names.add("--trace");
        }
        if (summary != null) {
            outputs.add(summary);
            names.add("--summary");
        }
        for (int i = 0; i < outputs.size(); i++) {
            if (sameFile(outputs.get(i), text)) {
                throw new UsageException(names.get(i) + ": '" + outputs.get(i) + "' is the --text file; give another "
                        + "file");
            }
            for (int j = i + 1; j < outputs.size(); j++) {
                if (sameFile(outputs.get(i), outputs.get(j))) {
                    throw new UsageException(names.get(j) + ": '" + outputs.get(j) + "' is the same file as "
                            + names.get(i) + " '" + outputs.get(i) + "'; give different files");
                }
            }
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) {
                return Files.isSameFile(a, b);
            }
        } catch (IOException e) {
            return false;
        }
        return Objects.equals(a.toAbsolutePath().normalize(), b.toAbsolutePath().normalize());
    }

    private static void probeWritable(Path target) {
        try (AtomicFile probe = AtomicFile.open(target, "--checkpoint")) {
            // opened (a temporary file beside the target) and discarded: the target can be written
            Objects.requireNonNull(probe);
        } catch (AtomicFile.UnwritableException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private AtomicFile openSummary() {
        try {
            return AtomicFile.open(summary, "--summary");
        } catch (AtomicFile.UnwritableException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private Device openDevice(Precision p, PrintWriter err) {
        Device device;
        try {
            device = Device.open(DeviceRequest.parse(backend), p);
        } catch (IllegalArgumentException | DeviceUnavailableException e) {
            throw new UsageException("--backend: " + e.getMessage());
        }
        if (device.fellBack()) {
            err.println("rnn4j: " + device.reason());
            err.flush();
        }
        return device;
    }

    // ------------------------------------------------------------------------------------------------ Ctrl-C

    /** Ctrl-C sets a flag the loop reads after each update; a second Ctrl-C exits at once. */
    private Object installInterruptHandler(PrintWriter err) {
        return InterruptSignal.install(() -> {
            if (interrupted) {
                System.exit(INTERRUPTED);
            }
            interrupted = true;
            err.println();
            err.println("rnn4j: interrupted: finishing this update, then saving the checkpoint (Ctrl-C again to "
                    + "stop at once, keeping the last saved one)");
            err.flush();
        });
    }

    private static void restoreInterruptHandler(Object previous) {
        InterruptSignal.restore(previous);
    }
}
