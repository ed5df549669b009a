package org.rnn4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.rnn4j.train.InsufficientMemoryException;
import org.rnn4j.train.NonFiniteLossException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code rnn4j} command line. Exit codes: 0 success; 1 a check that did not pass, or a failure while running (a
 * loss that became infinite or NaN, memory that ran out: one line each); 2 bad input (one line on stderr naming the
 * option, never a stack trace), a configuration refused because it would not fit in memory included.
 */
@Command(name = "rnn4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Trains recurrent networks from Java: the seeds' binary-addition RNN and minimal LSTM.")
public final class Main implements Runnable {

    /**
     * The subcommands, in the order help lists them. Added by {@link #run} rather than named in the annotation:
     * picocli builds the model of every command it is given, by reflection, and for {@code train lstm} that was a
     * good part of the start; a command line whose first word names one of them gets that one only ({@code help}
     * gets them all, since it describes the others).
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(TrainCommand.class, SampleCommand.class, GradcheckCommand.class,
            DevicesCommand.class, CompareCommand.class, MemoryCommand.class, KernelsCommand.class, HelpCommand.class);

    /** Exit code for bad input. */
    public static final int USAGE = 2;
    /** Exit code for a failed check or a failure while running. */
    public static final int FAILURE = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command (train, sample, gradcheck, devices, compare, memory; see rnn4j --help)");
    }

    /**
     * The launcher's entry point: runs the command line on {@code System.out} and {@code System.err} and exits the JVM
     * with its exit code (0, 1 or 2; see the class comment).
     *
     * @param args the command line, e.g. {@code train rnn --iterations 100}
     */
    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /**
     * Runs the command line with the given streams and returns its exit code; for tests and {@link #main}. Never
     * exits the JVM and never throws for bad input: that is one line on {@code err} and exit code {@link #USAGE}.
     * Only the subcommand that the first argument names is registered with picocli (all of them for {@code help} or
     * an unknown word).
     *
     * @param args the command line, without the program name
     * @param out  where the command's output and help go; flushed before returning
     * @param err  where errors go (one line each); flushed before returning
     * @return 0 on success, {@link #FAILURE} (1) for a check that did not pass or a failure while running,
     *         {@link #USAGE} (2) for bad input
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        addNamedOrAll(cl, SUBCOMMANDS, args, 0);
        CommandLine train = cl.getSubcommands().get("train");
        if (train != null) { // the same one level down: train rnn|lstm|charlm
            addNamedOrAll(train, TrainCommand.NETWORKS, args, 1);
        }
        return execute(cl, args, out, err);
    }

    /**
     * Adds to {@code parent} the one of {@code commands} that {@code args[at]} names, or all of them when it names
     * none of them (help, an unknown word, nothing); {@link HelpCommand} is added only with all the others.
     */
    private static void addNamedOrAll(CommandLine parent, List<Class<?>> commands, String[] args, int at) {
        Class<?> named = null;
        for (Class<?> c : commands) {
            if (args.length > at && c != HelpCommand.class && c.getAnnotation(Command.class).name().equals(args[at])) {
                named = c;
            }
        }
        for (Class<?> c : commands) {
            if (named == null || c == named) {
                parent.addSubcommand(c);
            }
        }
    }

    /**
     * Runs {@code cl} with rnn4j's error handling: bad input one line and exit 2; a failure while running one line
     * (and a hint about {@code RNN4J_DEBUG}) and exit 1; a run that ran out of memory or whose loss became non-finite
     * one line and exit 1.
     */
    static int execute(CommandLine cl, String[] args, PrintWriter out, PrintWriter err) {
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, ignored) -> {
            err.println("rnn4j: " + oneLine(ex.getMessage()));
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof UsageException) {
                err.println("rnn4j: " + oneLine(ex.getMessage()));
                return USAGE;
            }
            if (ex instanceof InsufficientMemoryException) {
                err.println("rnn4j: not enough memory: " + oneLine(ex.getMessage()));
                return USAGE;
            }
            if (ex instanceof NonFiniteLossException) {
                err.println("rnn4j: training stopped: " + oneLine(ex.getMessage())
                        + "; nothing was saved (a smaller --lr may help)");
                debug(ex, err);
                return FAILURE;
            }
            err.println("rnn4j: error: " + oneLine(describe(ex)));
            if (!debug(ex, err)) {
                err.println("rnn4j: (set RNN4J_DEBUG=1 for the stack trace)");
            }
            return FAILURE;
        });
        int code;
        try {
            code = cl.execute(args);
        } catch (OutOfMemoryError e) {
            // picocli hands only Exceptions to the handler above; an Error comes through here
            err.println("rnn4j: error: " + describe(e));
            debug(e, err);
            code = FAILURE;
        }
        out.flush();
        err.flush();
        return code;
    }

    /** Prints the stack trace when {@code RNN4J_DEBUG} is set; says whether it did. */
    private static boolean debug(Throwable ex, PrintWriter err) {
        if (System.getenv("RNN4J_DEBUG") == null) {
            return false;
        }
        ex.printStackTrace(err);
        return true;
    }

    private static String describe(Throwable ex) {
        if (ex instanceof OutOfMemoryError) {
            long max = Runtime.getRuntime().maxMemory();
            String heap = max == Long.MAX_VALUE ? "" : String.format(Locale.ROOT, " (the heap's limit is %d MiB)",
                    max >> 20);
            return "out of memory (" + oneLine(ex.getMessage()) + ")" + heap + "; use smaller sizes or a larger "
                    + "heap, e.g. JAVA_OPTS=-Xmx" + Math.max(2, 2 * ((max >> 30) + 1)) + "g";
        }
        String message = ex.getMessage();
        return message == null ? ex.getClass().getSimpleName() : message;
    }

    private static String oneLine(String message) {
        if (message == null) {
            return "invalid input";
        }
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).strip();
    }

    /** {@code rnn4j --version}: the build's version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            return new String[] {"rnn4j " + version(), "Java " + System.getProperty("java.version") + " ("
                    + System.getProperty("java.vm.name") + ")"};
        }
    }

    static String version() {
        Properties p = new Properties();
        try (InputStream in = Main.class.getResourceAsStream("/org/rnn4j/version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            return "unknown";
        }
        return p.getProperty("version", "unknown");
    }
}
