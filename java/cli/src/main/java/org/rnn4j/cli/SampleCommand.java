package org.rnn4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.Device;
import org.rnn4j.backend.DeviceRequest;
import org.rnn4j.backend.DeviceUnavailableException;
import org.rnn4j.backend.Precision;
import org.rnn4j.charlm.CharLmCheckpoint;
import org.rnn4j.charlm.CharLmSampler;
import org.rnn4j.io.AtomicFile;
import org.rnn4j.io.CheckpointFormatException;
import org.rnn4j.io.ShortestDouble;
import org.rnn4j.text.Vocabulary;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rnn4j sample}: text from a character model's checkpoint. */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate text from a checkpoint of `rnn4j train charlm`: feeds the prime (or a character "
                + "of the vocabulary drawn with --seed), then draws one character at a time from the model, printing "
                + "each as it comes. The output is the prime (or the drawn character), the generated characters and "
                + "a newline."})
final class SampleCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", paramLabel = "FILE", required = true,
            description = "A checkpoint written by `rnn4j train charlm` (or in its format).")
    Path checkpoint;

    @Option(names = "--length", paramLabel = "N", defaultValue = "500",
            description = "Characters to generate after the prime. Default: ${DEFAULT-VALUE}.")
    int length;

    @Option(names = "--temperature", paramLabel = "X", defaultValue = "1.0",
            description = "Divides the logits before the softmax: below 1 more likely characters, above 1 more "
                    + "varied; 0 always takes the most likely one. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--prime", paramLabel = "TEXT",
            description = "Text to start from; each of its characters must be in the checkpoint's vocabulary.")
    String prime;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "Seed of the draws (and of the first character without --prime). Default: "
                    + "${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto",
            description = "auto, cpu or cuda. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--precision", paramLabel = "P",
            description = "float32 or float64. Default: the checkpoint's.")
    String precision;

    @Option(names = "--dump-logits", paramLabel = "FILE", hidden = true,
            description = "Write the logits after each character of the prime as JSON (for the PyTorch check).")
    Path dumpLogits;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (length < 0) {
            throw new UsageException("--length must be at least 0, got " + length);
        }
        if (!(temperature >= 0) || !Double.isFinite(temperature)) {
            throw new UsageException("--temperature must be a finite number, at least 0, got " + temperature);
        }
        if (seed < 0) {
            throw new UsageException("--seed must be at least 0, got " + seed);
        }
        if (!Backends.names().contains(backend)) {
            throw new UsageException("--backend: unknown backend '" + backend + "' (expected "
                    + String.join(" or ", Backends.names()) + ")");
        }
        CharLmCheckpoint ck;
        try {
            ck = CharLmCheckpoint.read(checkpoint);
        } catch (CheckpointFormatException | IOException e) {
            throw new UsageException("--checkpoint: " + e.getMessage());
        }
        Precision p;
        try {
            p = precision == null ? ck.settings().precision() : Precision.parse(precision);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--precision: " + e.getMessage());
        }
        Vocabulary vocab = ck.vocabulary();
        int[] primed = prime == null ? new int[0] : prime.codePoints().toArray();
        int[] tokens = new int[primed.length];
        for (int i = 0; i < primed.length; i++) {
            tokens[i] = vocab.indexOf(primed[i]);
            if (tokens[i] < 0) {
                throw new UsageException("--prime: " + Vocabulary.describe(primed[i]) + " (character " + (i + 1)
                        + ") is not in the checkpoint's vocabulary of " + vocab.size() + " characters");
            }
        }
        AtomicFile dump = null;
        if (dumpLogits != null) {
            if (tokens.length == 0) {
                throw new UsageException("--dump-logits needs a --prime");
            }
            try {
                dump = AtomicFile.open(dumpLogits, "--dump-logits");
            } catch (AtomicFile.UnwritableException e) {
                throw new UsageException(e.getMessage());
            }
        }
        Device device;
        try {
            device = Device.open(DeviceRequest.parse(backend), p);
        } catch (IllegalArgumentException | DeviceUnavailableException e) {
            if (dump != null) {
                dump.close();
            }
            throw new UsageException("--backend: " + e.getMessage());
        }
        if (device.fellBack()) {
            err.println("rnn4j: " + device.reason());
            err.flush();
        }
        SplittableRandom random = new SplittableRandom(seed);
        try (device; AtomicFile dumpFile = dump; CharLmSampler sampler = new CharLmSampler(device.backend(), ck)) {
            if (tokens.length == 0) {
                tokens = new int[] {random.nextInt(vocab.size())};
            }
            StringBuilder json = dumpFile == null ? null : new StringBuilder();
            if (json != null) {
                json.append("{\"precision\": \"").append(p.cliName()).append("\", \"tokens\": [");
                for (int i = 0; i < tokens.length; i++) {
                    json.append(i == 0 ? "" : ", ").append(tokens[i]);
                }
                json.append("], \"logits\": [");
            }
            double[] logits = null;
            for (int i = 0; i < tokens.length; i++) {
                out.print(Character.toString(vocab.codePoint(tokens[i])));
                logits = sampler.feed(tokens[i]);
                if (json != null) {
                    json.append(i == 0 ? "[" : ", [");
                    for (int j = 0; j < logits.length; j++) {
                        json.append(j == 0 ? "" : ", ").append(ShortestDouble.toString(logits[j]));
                    }
                    json.append(']');
                }
            }
            out.flush();
            for (int n = 0; n < length; n++) {
                int next = CharLmSampler.pick(logits, temperature, random);
                out.print(Character.toString(vocab.codePoint(next)));
                out.flush();
                if (n + 1 < length) {
                    logits = sampler.feed(next);
                }
            }
            out.println();
            out.flush();
            if (dumpFile != null) {
                dumpFile.println(json.append("]}").toString());
                dumpFile.commit();
            }
        }
        return 0;
    }
}
