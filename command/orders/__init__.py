"""orders: work on an incident once it is dispatched. It owns department work orders (work_orders), a liaison's
actions (liaison), extensions, transfer, the operator's review and close (review), callbacks and satisfaction, the
resident's tracking reads (tracking), reading incidents in scope (incidents), dispositions (挂账, 作废: disposition),
petitions (信访: petitions, petition_reads) and the uploaded photos (uploads). It may import deadlines, core and
geo."""
