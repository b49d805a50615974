from throughgate.engines.disclosure import suppress_row, suppress_total


def test_counts_below_the_threshold_are_hidden_but_zero_is_shown():
    cells = suppress_row([0, 3, 40, 12], threshold=5)
    assert [str(c) for c in cells] == ["0", "[c]", "40", "[c]"]


def test_the_second_hidden_cell_is_not_mislabelled_as_small():
    cells = suppress_row([2, 40, 12], threshold=5)
    # Both hidden cells look alike: neither says "<5", so 12 is not called small and
    # a reader cannot tell which of the two hidden cells is the small one.
    assert str(cells[0]) == str(cells[2]) == "[c]"


def test_a_lone_hidden_cell_takes_the_next_smallest_with_it():
    cells = suppress_row([2, 40, 12], threshold=5)
    assert [c.suppressed for c in cells] == [True, False, True]
    assert [c.shown for c in cells] == [None, 40, None]


def test_nothing_hidden_when_all_counts_are_large():
    assert not any(c.suppressed for c in suppress_row([5, 6, 700], threshold=5))


def test_total_is_suppressed_when_small():
    assert str(suppress_total(3, 5)) == "[c]"
    assert str(suppress_total(1234, 5)) == "1,234"
