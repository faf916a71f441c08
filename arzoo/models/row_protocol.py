"""The row protocol: a cache with a part recomputed once per row.

A family whose cache has a part recomputed once per block of
`steps_per_row` steps and left alone by the steps in it (the rows a
vertical stack or a down-shifted stream reads) declares that part's state
keys as `ROW_KEYS` and implements `row_state` and `pixel_step`; the
sampling driver (arzoo.sampling.driver.row_wise_sample) then runs two
nested loops so that part is a constant of the inner loop. `RowProtocol`
gives such a family its `step` and `prepared_step` from the two.
"""

import tensorflow as tf


class RowProtocol:
    """Mixin for an `AutoregressiveModel` whose state holds `canvas` and
    `position`, before the model class in the bases.

    Class attributes:
      ROW_KEYS: state entries `row_state` computes and no step changes.
      ROW_RESET_KEYS: further entries `row_state` resets when a row starts
        (a pixel step changes them within the row).
    """

    ROW_KEYS = ()
    ROW_RESET_KEYS = ()

    def row_state(self, state, row, context, in_place=False):
        """The `ROW_KEYS` and `ROW_RESET_KEYS` entries for block `row`, from a
        state whose canvas holds every earlier value (`in_place` as for
        `prepared_step`)."""
        raise NotImplementedError

    def pixel_step(self, state, context, in_place=False):
        """`prepared_step` without the row update (`ROW_KEYS` are current)."""
        raise NotImplementedError

    def step(self, inputs_t, state, condition=None):
        return self.prepared_step(inputs_t, state, self.prepare_condition(condition))

    def prepared_step(self, inputs_t, state, context, in_place=False):
        """Write the previous values, recompute the row entries at a row's
        first step, then `pixel_step`."""
        position = state["position"]
        state = dict(state, canvas=self.write_step(state["canvas"], position - 1, inputs_t))
        step = position[0]  # cached states advance all rows together
        rows = tf.cond(
            step % self.steps_per_row == 0,
            lambda: self.row_state(state, step // self.steps_per_row, context, in_place),
            lambda: {key: state[key] for key in self.ROW_KEYS + self.ROW_RESET_KEYS},
        )
        return self.pixel_step(dict(state, **rows), context, in_place)
