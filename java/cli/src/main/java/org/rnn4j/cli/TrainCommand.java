package org.rnn4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code rnn4j train rnn|lstm}. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train one of the seed networks, or a character-level language model on your own text (charlm).",
        subcommands = {TrainRnnCommand.class, TrainLstmCommand.class, TrainCharLmCommand.class})
final class TrainCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "train: missing network (rnn, lstm or charlm)");
    }
}
