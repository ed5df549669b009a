package org.rnn4j.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code rnn4j train rnn|lstm}. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train one of the seed networks, or a character-level language model on your own text (charlm).")
final class TrainCommand implements Runnable {

    /**
     * The networks, in the order help lists them; added by {@link Main#run} (only the one named, as for the commands
     * one level up: picocli builds every command it is given by reflection, charlm's 24 options included).
     */
    static final List<Class<?>> NETWORKS = List.of(TrainRnnCommand.class, TrainLstmCommand.class,
            TrainCharLmCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "train: missing network (rnn, lstm or charlm)");
    }
}
